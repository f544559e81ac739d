package console

import (
	"cmp"
	"fmt"
	"slices"
)

// A picture is a layered graph drawn server-side as SVG: layers of nodes
// from left to right (users, their paths, customers), edges between them,
// each edge kept, cut by a save (drawn struck through) or new (highlighted).
type picture struct {
	Layers [][]*node
	Edges  []*edge
	// Width and Height are the drawing's size, once laid out.
	Width, Height int
	// Caption says what is drawn and what was aggregated.
	Caption string
	// Change says the picture draws what a save would change.
	Change bool
}

// node is one object of a picture.
type node struct {
	// Key identifies the node in its picture: "user:alex".
	Key   string
	Label string
	// Kind is user, customer_group, customer, security_group, grant,
	// aggregate (a count of hidden nodes) or step.
	Kind string
	// State is "", "loses", "gains" or "keeps".
	State string
	// Href, when set, expands or opens the node.
	Href string
	// Title is the tooltip.
	Title string
	X, Y  int
	layer int
}

// edge joins two nodes.
type edge struct {
	From, To *node
	// State is "kept", "cut" or "new".
	State string
	Path  string
}

// Edge states.
const (
	kept  = "kept"
	cut   = "cut"
	added = "new"
)

// Sizes of a drawing, in pixels.
const (
	nodeWidth   = 190
	nodeHeight  = 30
	nodeGap     = 10
	layerGap    = 90
	pictureEdge = 20
)

func newPicture(layers int) *picture {
	return &picture{Layers: make([][]*node, layers)}
}

// node returns the node of key in layer, adding it with label and kind when new.
func (p *picture) node(layer int, key, label, kind string) *node {
	for _, n := range p.Layers[layer] {
		if n.Key == key {
			return n
		}
	}
	n := &node{Key: key, Label: label, Kind: kind, layer: layer}
	p.Layers[layer] = append(p.Layers[layer], n)
	return n
}

// join adds an edge from a to b, or gives an existing one the new state
// when it is not kept (a cut or a new path wins).
func (p *picture) join(a, b *node, state string) {
	for _, e := range p.Edges {
		if e.From == a && e.To == b {
			if state != kept {
				e.State = state
			}
			return
		}
	}
	p.Edges = append(p.Edges, &edge{From: a, To: b, State: state})
}

// Nodes counts the picture's nodes.
func (p *picture) Nodes() int {
	n := 0
	for _, l := range p.Layers {
		n += len(l)
	}
	return n
}

// layout places the nodes: layer by layer, each ordered by the mean position
// of its neighbours in the layer before (so that edges cross less), then
// centred vertically; edges become curves from the right of one node to the
// left of the next.
func (p *picture) layout() {
	// The first non-empty layer in name order; each next by its neighbours.
	pos := map[*node]float64{}
	for li, l := range p.Layers {
		if li == 0 {
			slices.SortStableFunc(l, func(a, b *node) int { return cmp.Compare(a.Label, b.Label) })
		} else {
			mean := map[*node]float64{}
			for _, n := range l {
				sum, count := 0.0, 0
				for _, e := range p.Edges {
					if e.To == n && e.From.layer < li {
						sum += pos[e.From]
						count++
					}
				}
				mean[n] = 1e9
				if count > 0 {
					mean[n] = sum / float64(count)
				}
			}
			slices.SortStableFunc(l, func(a, b *node) int {
				if c := cmp.Compare(mean[a], mean[b]); c != 0 {
					return c
				}
				return cmp.Compare(a.Label, b.Label)
			})
		}
		for i, n := range l {
			pos[n] = float64(i)
		}
	}
	tallest := 0
	for _, l := range p.Layers {
		tallest = max(tallest, len(l))
	}
	height := tallest*(nodeHeight+nodeGap) - nodeGap
	for li, l := range p.Layers {
		offset := (height - (len(l)*(nodeHeight+nodeGap) - nodeGap)) / 2
		for i, n := range l {
			n.X = pictureEdge + li*(nodeWidth+layerGap)
			n.Y = pictureEdge + offset + i*(nodeHeight+nodeGap)
		}
	}
	p.Width = 2*pictureEdge + len(p.Layers)*nodeWidth + (len(p.Layers)-1)*layerGap
	p.Height = 2*pictureEdge + max(height, nodeHeight)
	for _, e := range p.Edges {
		x1, y1 := e.From.X+nodeWidth, e.From.Y+nodeHeight/2
		x2, y2 := e.To.X, e.To.Y+nodeHeight/2
		mid := (x1 + x2) / 2
		e.Path = fmt.Sprintf("M%d %d C%d %d, %d %d, %d %d", x1, y1, mid, y1, mid, y2, x2, y2)
	}
	// Cut and new edges are drawn last, over the kept ones.
	slices.SortStableFunc(p.Edges, func(a, b *edge) int { return cmp.Compare(edgeRank[a.State], edgeRank[b.State]) })
}

var edgeRank = map[string]int{kept: 0, added: 1, cut: 2}
