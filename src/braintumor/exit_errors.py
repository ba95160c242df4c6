"""The errors that end a command with one line and a chosen exit status (2: fix the command line; 75: try again
later; 1: the run itself failed).

Apart from the command line's checks (:mod:`braintumor.cli_checks`): ``serve``'s settings
(:mod:`braintumor.serve_settings`), whose Host names the web app shares, raise them too, and the web app loads none
of the CLI's modules.
"""

from __future__ import annotations


class UsageError(Exception):
    """A problem the user can fix; printed as one line, exit code 2."""


class AddressUnavailable(Exception):
    """``serve``'s port held by another program, or its address or name not the machine's yet (at boot, before DHCP
    or DNS); one line, exit code 75 (sysexits' EX_TEMPFAIL): the same command may work later (the last run still
    stopping, the network up), so a supervisor retries it, where the systemd unit stops on 2."""


class RunFailed(Exception):
    """The run could not finish for a cause outside its arguments (a worker process killed); one line, exit code 1:
    2 would tell a pipeline that its command line was wrong, and retrying it unchanged is what helps."""
