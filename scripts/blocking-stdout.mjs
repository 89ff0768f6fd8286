// Preloaded into every test process by scripts/run-tests.mjs (with --test-force-exit).
// A test file's process reports its results to the runner through its stdout, a pipe, and on Linux
// writes to a pipe are asynchronous. --test-force-exit ends the process with process.exit() once its
// tests are done, and whatever was still queued is dropped: the tail of the file's results vanishes
// and the run passes with fewer tests than ran (nodejs/node#64833; seen here as a file's last
// describe missing from a green CI run). Blocking writes leave nothing queued at exit.
if (typeof process.stdout._handle?.setBlocking === 'function') process.stdout._handle.setBlocking(true)
