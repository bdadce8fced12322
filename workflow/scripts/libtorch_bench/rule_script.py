"""What every rule script does around its work: open the rule's log, send warnings there,
stamp the job when it times or builds (see "Timing isolation" in workflow/rules/common.smk),
and leave the traceback in the log when it fails."""

import sys
import traceback
from contextlib import nullcontext

from .job_clock import job_clock


def rule_main(snakemake, main, kind=None):
    """Call main(snakemake, log) with the rule's first log file open as `log`; kind 'timing'
    or 'build' stamps the job's start and end beside that log."""
    with job_clock(snakemake, kind) if kind else nullcontext(), open(snakemake.log[0], "w") as log:
        saved, sys.stderr = sys.stderr, log
        try:
            main(snakemake, log)
        except BaseException:
            traceback.print_exc(file=log)
            raise
        finally:
            sys.stderr = saved
