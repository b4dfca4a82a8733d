// run_node(): the whole life of a raftmeta-node process, from flags to exit
// code. main() only calls it.
//
// Start-up order: block SIGTERM/SIGINT (before any thread exists), parse
// flags (exit 2 on a usage error), set up logging, start the stall watchdog
// and the health server (so /startupz and /livez answer while storage opens
// and the log replays), start the Node (peer transport, storage, loops), then
// the client gRPC server. Shutdown on the first SIGTERM/SIGINT, all within
// --shutdown-timeout-ms: Watch streams end, the Node shuts down (a leader
// transfers leadership first, in-flight applies finish, storage closes), the
// client server stops, then the health server. Past the timeout the process
// exits anyway with status 1 and a logged reason.
//
// Exit codes: 0 clean shutdown; 1 failure to start or an unclean shutdown;
// 2 usage error.
#pragma once

namespace raftmeta::node::server {

int run_node(int argc, char** argv);

}  // namespace raftmeta::node::server
