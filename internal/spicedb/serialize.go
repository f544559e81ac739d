package spicedb

import (
	"context"
	"sync"

	v1 "github.com/authzed/authzed-go/proto/authzed/api/v1"
	"google.golang.org/grpc"
)

// SpiceDB v1.56.0's memory datastore takes a write's revision (a timestamp)
// before it waits for the write lock (internal/datastore/memdb/memdb.go,
// ReadWriteTx), so two writes at once can commit in the other order than
// their revisions; its watch, which reads the change log after the last
// revision it sent, then never sends the earlier one. The memory datastore
// lives in this process and only this process writes to it: one write at a
// time, from here, keeps revisions in commit order, and the watch whole
// (internal/reach, the change feed).
type writeSerializer struct{ mu sync.Mutex }

// the calls that make a revision.
var serializedMethods = map[string]bool{
	v1.PermissionsService_WriteRelationships_FullMethodName:      true,
	v1.PermissionsService_DeleteRelationships_FullMethodName:     true,
	v1.PermissionsService_ImportBulkRelationships_FullMethodName: true,
	v1.SchemaService_WriteSchema_FullMethodName:                  true,
}

func (s *writeSerializer) dialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			if serializedMethods[method] {
				s.mu.Lock()
				defer s.mu.Unlock()
			}
			return invoker(ctx, method, req, reply, cc, opts...)
		}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			if !serializedMethods[method] {
				return streamer(ctx, desc, cc, method, opts...)
			}
			s.mu.Lock()
			stream, err := streamer(ctx, desc, cc, method, opts...)
			if err != nil {
				s.mu.Unlock()
				return nil, err
			}
			unlock := sync.OnceFunc(s.mu.Unlock)
			// A stream its caller abandons ends with its context.
			stop := context.AfterFunc(ctx, unlock)
			return &heldStream{ClientStream: stream, release: func() { stop(); unlock() }}, nil
		}),
	}
}

// heldStream holds the write lock until its answer (or an error) comes.
type heldStream struct {
	grpc.ClientStream
	release func()
}

func (h *heldStream) RecvMsg(m any) error {
	err := h.ClientStream.RecvMsg(m)
	h.release()
	return err
}

func (h *heldStream) SendMsg(m any) error {
	err := h.ClientStream.SendMsg(m)
	if err != nil {
		h.release()
	}
	return err
}
