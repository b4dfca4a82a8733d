// raftmeta-node's entry point; everything is in node_runner.cpp.
#include "sidecar/node/server/node_runner.h"

int main(int argc, char** argv) { return raftmeta::node::server::run_node(argc, argv); }
