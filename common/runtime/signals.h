#pragma once

namespace ensemble::runtime {

// Blocks SIGINT, SIGTERM and SIGPIPE in the calling thread and every thread
// it starts afterwards. Call first thing in main().
void BlockShutdownSignals();

// Waits until SIGINT or SIGTERM arrives; returns the signal number.
int WaitForShutdownSignal();

}  // namespace ensemble::runtime
