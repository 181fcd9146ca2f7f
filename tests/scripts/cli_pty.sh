#!/bin/bash
# virtpp's interactive shell driven through a real pseudo-terminal: keys are typed as a user
# types them (arrow keys as escape sequences, TAB, Ctrl keys), the bytes virtpp writes back are
# replayed on a small screen model (CR, LF, erase-to-end-of-line, cursor-left), and the screen
# is checked line by line: history recall, tab completion of a command, an option and a domain
# name, candidate listing, line editing keys, and the session's exit.
set -u
command -v python3 >/dev/null 2>&1 || { echo "python3 not installed: skipping"; exit 77; }
VIRTPP="${VIRTPP_BINARY_DIR:?}/tools/virtpp"
[ -x "$VIRTPP" ] || { echo "missing $VIRTPP"; exit 1; }
unset LIBVIRT_DEFAULT_URI VIRSH_DEFAULT_CONNECT_URI
exec python3 - "$VIRTPP" <<'PY'
import os, pty, re, select, sys, time

prog = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    os.environ["LC_ALL"] = "C.UTF-8"
    os.execv(prog, [prog, "-c", "test:///default"])

raw = bytearray()

def pump(until, timeout=10.0):
    """Reads what virtpp writes until `until` (bytes) has appeared after the current end."""
    start = len(raw)
    deadline = time.monotonic() + timeout
    while until not in raw[start:]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise SystemExit("timed out waiting for %r; got %r" % (until, bytes(raw[start:])))
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            raw.extend(chunk)

PROMPT = b"\nvirtpp # "  # a fresh prompt; redraws of the line start with CR only

def type_keys(keys, wait=PROMPT):
    os.write(fd, keys)
    pump(wait)

def screen():
    """Replays the output on a screen model and returns its lines."""
    lines, row, col = [""], 0, 0
    data = raw.decode("utf-8", "replace")
    i = 0
    while i < len(data):
        c = data[i]
        if c == "\x1b":
            m = re.match(r"\x1b\[(\d*)([A-Za-z])", data[i:])
            if m:
                n = int(m.group(1) or "1")
                if m.group(2) == "K":
                    lines[row] = lines[row][:col]
                elif m.group(2) == "D":
                    col = max(0, col - n)
                elif m.group(2) == "C":
                    col += n
                elif m.group(2) == "J":
                    lines, row, col = [""], 0, 0
                i += len(m.group(0))
                continue
        if c == "\r":
            col = 0
        elif c == "\n":
            row += 1
            if row == len(lines):
                lines.append("")
        else:
            line = lines[row].ljust(col)
            lines[row] = line[:col] + c + line[col + 1:]
            col += 1
        i += 1
    return lines

failures = []
def expect_lines(expected, what):
    """`expected` must appear as consecutive screen lines (trailing blanks ignored)."""
    got = [l.rstrip() for l in screen()]
    for k in range(len(got) - len(expected) + 1):
        if got[k:k + len(expected)] == expected:
            return
    failures.append("%s: screen lacks %r" % (what, expected))

pump(PROMPT)
expect_lines(["Welcome to virtpp, the virtualization interactive terminal.", "",
              "Type:  'help' for help with commands", "       'quit' to quit", ""], "banner")

# a command, then the same command again from history with arrow-up
type_keys(b"domid test\r")
expect_lines(["virtpp # domid test", "1", "", "virtpp #"], "typed command")
type_keys(b"domstate test\r")
type_keys(b"\x1b[A\x1b[A\r")
expect_lines(["virtpp # domid test", "1", "", "virtpp #"], "history recalls the first command")
before = screen().count("virtpp # domid test")
if before < 2:
    failures.append("arrow-up twice did not bring back 'domid test' (seen %d times)" % before)

# TAB completes a command name...
type_keys(b"domna\t", wait=b"domname")
type_keys(b"1\r")
expect_lines(["virtpp # domname 1", "test", "", "virtpp #"], "command completion")
# ...an option...
type_keys(b"list --al\t", wait=b"--all")
type_keys(b"\r")
expect_lines(["virtpp # list --all", " Id   Name   State", "----------------------", " 1    test   running", "", "virtpp #"],
             "option completion")
# ...and a domain name
type_keys(b"dominfo te\t", wait=b"dominfo test")
type_keys(b"\r")
expect_lines(["virtpp # dominfo test", "Id:             1", "Name:           test"], "domain name completion")
# an ambiguous word lists the candidates and keeps the line
type_keys(b"domu\t", wait=b"domuuid")
os.write(fd, b"\x15")  # Ctrl-U drops the line
type_keys(b"net-in\t", wait=b"net-info")
type_keys(b"def\t", wait=b"default")
type_keys(b"\r")
expect_lines(["virtpp # net-info default", "Name:           default"], "network name completion")
type_keys(b"dom\t", wait=b"domxml-to-native  ")
# the candidates are every command `help` lists that starts with "dom", sorted, two spaces apart
import subprocess
helped = subprocess.run([prog, "help"], capture_output=True, text=True, env={"LC_ALL": "C.UTF-8", "PATH": os.environ.get("PATH", "")}).stdout
dom_commands = sorted({w for w in re.findall(r"^\s+(dom[a-z-]+)", helped, re.M)})
if len(dom_commands) < 10:
    raise SystemExit("`virtpp help` lists only %r" % dom_commands)
expect_lines(["virtpp # dom", "  ".join(dom_commands)], "candidate list")
os.write(fd, b"\x15")
# editing keys: Ctrl-A to the start, fix the command word, Ctrl-E back to the end
type_keys(b"xxid test\x01\x1b[3~\x1b[3~dom\x05\r")
expect_lines(["virtpp # domid test", "1"], "Ctrl-A / Delete / Ctrl-E editing")
# an unknown command reports virsh's error
type_keys(b"bogus\r")
expect_lines(["virtpp # bogus", "error: unknown command: 'bogus'"], "error line")

os.write(fd, b"quit\r")
deadline = time.monotonic() + 10
status = None
while time.monotonic() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            if not os.read(fd, 4096):
                break
        except OSError:
            break
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = st
        break
if status is None:
    done, status = os.waitpid(pid, 0)
if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
    failures.append("quit did not end the session with status 0 (%r)" % status)

if failures:
    print("\n".join(failures))
    print("---- screen")
    print("\n".join(screen()))
    sys.exit(1)
print("cli pty: all checks passed")
PY
