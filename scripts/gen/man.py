#!/usr/bin/env python3
"""Turns a manual page written in docs/man/*.md (a small Markdown subset) into roff (man(7)).

    man.py SOURCE.md OUTPUT VERSION [--commands VIRTPP_BINARY]

The subset: the first line "# name(SECTION) -- one-line summary"; "## HEADING" (.SH) and
"### heading" (.SS); paragraphs; "- item" lists; a line followed by one starting with ": " is a
tagged paragraph (.TP: options and keys); ``` blocks are shown verbatim; **bold**, *italic* and
`code` (bold) inline. With --commands, a line "@COMMANDS@" becomes the command list the built
virtpp prints for `virtpp help`, so virtpp(1) lists exactly the commands the binary has.
"""
import datetime
import os
import re
import subprocess
import sys


def escape(text):
    text = text.replace("\\", "\\e")
    text = text.replace("-", "\\-")
    return text


def inline(text):
    out = []
    pos = 0
    pattern = re.compile(r"\*\*(.+?)\*\*|`([^`]+)`|\*([^*\s][^*]*?)\*")
    for m in pattern.finditer(text):
        out.append(escape(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append("\\fB" + escape(m.group(1)) + "\\fR")
        elif m.group(2) is not None:
            out.append("\\fB" + escape(m.group(2)) + "\\fR")
        else:
            out.append("\\fI" + escape(m.group(3)) + "\\fR")
        pos = m.end()
    out.append(escape(text[pos:]))
    line = "".join(out)
    # a line starting with . or ' would be a roff request
    if line.startswith(".") or line.startswith("'"):
        line = "\\&" + line
    return line


def command_list(binary):
    text = subprocess.run([binary, "help"], check=True, capture_output=True, text=True).stdout
    lines = [".nf"]
    for raw in text.splitlines():
        if raw.startswith("Grouped commands"):
            continue
        lines.append(inline(raw) if raw.strip() else "")
    lines.append(".fi")
    return lines


def convert(source, version, binary):
    with open(source, encoding="utf-8") as f:
        lines = f.read().splitlines()
    title = re.match(r"^# (\S+)\((\d)\) -- (.+)$", lines[0])
    if not title:
        sys.exit(f"{source}:1: expected '# name(SECTION) -- summary'")
    name, section, summary = title.groups()
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", os.path.getmtime(source)))
    date = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%d")
    out = [
        f'.\\" Generated from {os.path.basename(source)} by scripts/gen/man.py; edit the source.',
        f'.TH {name.upper()} {section} "{date}" "virtpp {version}" "Virtualization Support"',
        ".SH NAME",
        f"{escape(name)} \\- {inline(summary)}",
    ]
    i = 1
    in_list = False
    in_para = False
    while i < len(lines):
        line = lines[i]
        was_para, in_para = in_para, False
        if line.startswith("```"):
            block = []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                block.append(lines[i])
                i += 1
            out += [".PP", ".RS 4", ".nf"] + [("\\&" + escape(b)) for b in block] + [".fi", ".RE"]
        elif line.strip() == "@COMMANDS@":
            if not binary:
                sys.exit(f"{source}:{i + 1}: @COMMANDS@ needs --commands BINARY")
            out += command_list(binary)
        elif line.startswith("## "):
            out.append(".SH " + escape(line[3:].upper()))
        elif line.startswith("### "):
            out.append(".SS " + inline(line[4:]))
        elif not line.strip():
            in_list = False
        elif line.startswith("- "):
            out += [".IP \\(bu 2", inline(line[2:])]
            in_list = True
        elif i + 1 < len(lines) and lines[i + 1].startswith(": "):
            out += [".TP", inline(line)]
            i += 1
            out.append(inline(lines[i][2:]))
            while i + 1 < len(lines) and lines[i + 1].startswith("  ") and lines[i + 1].strip():
                i += 1
                out.append(inline(lines[i].strip()))
        elif in_list and line.startswith("  "):
            out.append(inline(line.strip()))
        else:
            if not was_para:
                out.append(".PP")
            out.append(inline(line))
            in_para = True
        i += 1
    return "\n".join(out) + "\n"


def main():
    args = sys.argv[1:]
    binary = None
    if "--commands" in args:
        k = args.index("--commands")
        binary = args[k + 1]
        del args[k:k + 2]
    if len(args) != 3:
        sys.exit("usage: man.py SOURCE.md OUTPUT VERSION [--commands VIRTPP_BINARY]")
    source, output, version = args
    text = convert(source, version, binary)
    tmp = output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, output)


if __name__ == "__main__":
    main()
