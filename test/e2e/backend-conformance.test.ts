// Runs the Backend contract suite against every backend: namespaces, and gVisor when runsc is installed.
import { runBackendContract } from '../contract/backend-contract.js';
import { findRunsc, RUNSC_INSTALL_HINT } from '../../src/backends/gvisor/gvisor-host-check.js';

runBackendContract({
  kind: 'namespaces',
  skips: {
    'pause frees the processes and resume brings back the same ones with their files':
      'memory pause on the namespaces backend needs CRIU, and no Debian CRIU can checkpoint on this kernel (3.17 cannot read the split vDSO of Linux 6.13+, 4.1 cannot save inet sockets on 6.16+): pause answers 501 naming that (namespaces-pause-resume)',
    'forks continue from the source and are independent of it and of each other':
      'fork needs a memory checkpoint, CRIU on this backend, which cannot run here (see pause): fork answers 501 unsupported (gvisor-fork-snapshot)',
  },
});

runBackendContract({
  kind: 'gvisor',
  ...(findRunsc() ? {} : { unavailable: `runsc is not installed: ${RUNSC_INSTALL_HINT}` }),
  skips: {
    'a memory hog fails inside the sandbox, which keeps working':
      "the 512 MiB limit holds, but the host memory cgroup's OOM killer picks the sentry, so the whole sandbox dies instead of the allocating process (the server survives)",
    'a fork bomb fails inside the sandbox, which keeps working':
      'runsc 20240729 enforces no pids limit (nor RLIMIT_NPROC) on sandbox tasks; only the host pids cgroup bounds the sentry and the stub processes of its platform, and reaching it kills the sandbox (the server survives)',
  },
});
