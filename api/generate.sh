#!/usr/bin/env bash
# Regenerates the Go code and the OpenAPI document of the mspauthz.v1 contract.
# Needs protoc (Debian: apt-get install -y protobuf-compiler); the plugins are
# pinned in api/tools/go.mod and built from the module proxy.
set -euo pipefail
cd "$(dirname "$0")"
api=$PWD
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT

(cd tools && GOBIN= go build -o "$bin" \
  google.golang.org/protobuf/cmd/protoc-gen-go \
  google.golang.org/grpc/cmd/protoc-gen-go-grpc \
  github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway \
  github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2)

# google/api/annotations.proto and http.proto, and the OpenAPI options, from
# pinned modules.
moddir() { (cd tools && go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'); }
googleapis=$(moddir github.com/grpc-ecosystem/grpc-gateway@v1.16.0)/third_party/googleapis
openapiv2=$(moddir github.com/grpc-ecosystem/grpc-gateway/v2@v2.29.0)

protos=(mspauthz/v1/*.proto)
PATH="$bin:$PATH" protoc -I "$api" -I "$googleapis" -I "$openapiv2" \
  --go_out=paths=source_relative:"$api" \
  --go-grpc_out=paths=source_relative:"$api" \
  --grpc-gateway_out=paths=source_relative:"$api" \
  "${protos[@]}"
PATH="$bin:$PATH" protoc -I "$api" -I "$googleapis" -I "$openapiv2" \
  --openapiv2_out="$api/../gateway" \
  --openapiv2_opt=allow_merge=true,merge_file_name=openapi,json_names_for_fields=true,disable_default_errors=false \
  "${protos[@]}"
mv "$api/../gateway/openapi.swagger.json" "$api/../gateway/openapi.json"
echo "generated: api/mspauthz/v1/*.go, gateway/openapi.json"
