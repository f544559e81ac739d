#!/usr/bin/env bash
# Regenerates the Go code and the OpenAPI document of the mspauthz.v1 contract.
# Everything is built from pinned Go modules, never taken from the system: buf
# compiles the .proto files (its version below; it has the well-known types
# built in), the plugins are pinned in api/tools/go.mod, and the imports
# (google/api, the OpenAPI options) come from pinned modules. So every machine
# generates the same bytes, and CI's diff compares like with like.
set -euo pipefail
cd "$(dirname "$0")"
api=$PWD
buf_version=v1.75.0

# buf takes minutes to build: it is installed once per version, in
# $MSPAUTHZ_TOOLS (default ~/.cache/mspauthz/tools).
tools=${MSPAUTHZ_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/mspauthz/tools}/buf-$buf_version
if [ ! -x "$tools/buf" ]; then
  echo "building buf $buf_version into $tools (once)"
  GOBIN=$tools go install "github.com/bufbuild/buf/cmd/buf@$buf_version"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd tools && GOBIN= go build -o "$work" \
  google.golang.org/protobuf/cmd/protoc-gen-go \
  google.golang.org/grpc/cmd/protoc-gen-go-grpc \
  github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway \
  github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2)

# The workspace buf compiles: the contract, and the files it imports from
# pinned modules (google/api/annotations.proto and http.proto, the OpenAPI
# options), each a module of its own.
moddir() { (cd tools && go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'); }
googleapis=$(moddir github.com/grpc-ecosystem/grpc-gateway@v1.16.0)/third_party/googleapis
openapiv2=$(moddir github.com/grpc-ecosystem/grpc-gateway/v2@v2.29.0)
mkdir -p "$work/contract/mspauthz/v1" "$work/googleapis/google/api" "$work/openapiv2/protoc-gen-openapiv2/options"
cp mspauthz/v1/*.proto "$work/contract/mspauthz/v1/"
cp "$googleapis"/google/api/{annotations,http,httpbody}.proto "$work/googleapis/google/api/"
cp "$openapiv2"/protoc-gen-openapiv2/options/{annotations,openapiv2}.proto "$work/openapiv2/protoc-gen-openapiv2/options/"
cat > "$work/buf.yaml" <<EOF
version: v2
modules:
  - path: contract
  - path: googleapis
  - path: openapiv2
EOF
cat > "$work/buf.gen.yaml" <<EOF
version: v2
plugins:
  - local: $work/protoc-gen-go
    out: $api
    opt: paths=source_relative
  - local: $work/protoc-gen-go-grpc
    out: $api
    opt: paths=source_relative
  - local: $work/protoc-gen-grpc-gateway
    out: $api
    opt: paths=source_relative
  - local: $work/protoc-gen-openapiv2
    out: $api/../gateway
    strategy: all
    opt: [allow_merge=true, merge_file_name=openapi, json_names_for_fields=true, disable_default_errors=false]
EOF
(cd "$work" && "$tools/buf" generate --path contract/mspauthz)
mv "$api/../gateway/openapi.swagger.json" "$api/../gateway/openapi.json"
echo "generated: api/mspauthz/v1/*.go, gateway/openapi.json"
