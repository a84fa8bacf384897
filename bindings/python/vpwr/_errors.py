# SPDX-License-Identifier: MIT
"""vpwr.Error: every failure libvpwr reports, raised as an OSError."""

import enum

from . import _vpwr

__all__ = ["Error", "ErrorCode"]

# Built from the C table (error.h), so a code added there appears here.
ErrorCode = enum.IntEnum(
    "ErrorCode",
    sorted(((name[len("VPWR_E_"):], value)
            for name, value in vars(_vpwr).items()
            if name.startswith("VPWR_E_") and isinstance(value, int)),
           key=lambda item: item[1]),
    module=__name__)
ErrorCode.__doc__ = """\
libvpwr's own error numbers (all >= 4000), beside the system's errno values.

Compare them with Error.errno:  ``if e.errno == vpwr.ErrorCode.VCPU_RANGE``.
"""


class Error(OSError):
    """A failure reported by libvpwr (every negative return of the C API).

    Attributes:
        errno: the positive error number, either a system errno value
            (``errno.EINVAL``, ``errno.ETIMEDOUT``, ...) or an ErrorCode.
        strerror: the library's message for it (vpwr_strerror()).
        name: its symbolic name ("EINVAL", "VPWR_E_VCPU_RANGE"), or None.
        reason: more detail when there is some: the host's explanation of a
            refused request, or the last message the library logged for the
            failing handle; "" otherwise.
    """

    def __init__(self, errno, strerror=None, reason=""):
        errno = abs(int(errno))
        if strerror is None:
            strerror = _vpwr.vpwr_strerror(errno)
        super().__init__(errno, strerror)
        self.name = _vpwr.vpwr_strerror_name(errno)
        self.reason = reason or ""

    def __str__(self):
        text = f"[Errno {self.errno}] {self.strerror}"
        if self.reason and self.reason != self.strerror:
            text += f": {self.reason}"
        return text

    def __reduce__(self):
        return (type(self), (self.errno, self.strerror, self.reason))


def check(rc, reason=""):
    """Return rc if it is >= 0, else raise Error(-rc) with `reason`."""
    if rc < 0:
        raise Error(-rc, reason=reason)
    return rc
