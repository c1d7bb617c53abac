# SPDX-License-Identifier: Apache-2.0
"""One line per call: key=value pairs, values quoted with control characters escaped."""
import datetime
import threading

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
MAX_VALUE = 512


def escape(value) -> str:
    text = str(value)[:MAX_VALUE]
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or ch in "\u2028\u2029":
            out.append("\\x%02x" % ord(ch) if ord(ch) < 0x100 else "\\u%04x" % ord(ch))
        else:
            out.append(ch)
    return '"%s"' % "".join(out)


class CallLog:
    """Writes to a file (appending) or to a stream such as stderr."""

    def __init__(self, stream):
        self._stream = stream
        self._lock = threading.Lock()

    def write(self, event: str, **fields) -> None:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        parts = [stamp, "event=%s" % escape(event)]
        parts += ["%s=%s" % (key, escape(value)) for key, value in fields.items() if value is not None]
        line = " ".join(parts) + "\n"
        with self._lock:
            self._stream.write(line)
            self._stream.flush()
