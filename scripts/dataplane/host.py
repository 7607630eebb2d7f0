"""What the local data plane may change on the host: its snapshot, the record taken before start,
and the plan that restores the record at stop.

scripts/dataplane.sh runs this file with the system's python3 (standard library only, no
virtualenv) and keeps the orchestration: it records before starting anything, and at stop runs the
plan's lines, each a bash command that logs its own failure. The parsing and the set differences
live here, as functions of the commands' text, so that they are tested on recorded outputs
(tests/unit/test_dataplane_host.py) without root.

    host.py snapshot --sysctl NAME... --dir PATH...            the sections of `dataplane.sh host-state`
    host.py record DIR --sysctl NAME... --dir PATH...          the record start takes (DIR must not exist)
    host.py plan DIR --node-ip IP --dir PATH...                what stop runs to go back to the record
    host.py plan-tables DIR                                    then: the nft tables left empty
    host.py mounts PREFIX...                                   mount points under PREFIXes, deepest first
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

IPTABLES = ("iptables", "ip6tables")
NFT_FAMILY = {"iptables": "ip", "ip6tables": "ip6"}
COUNTERS = re.compile(r" \[[0-9]*:[0-9]*\]$")
BUILT_IN_AT_ACCEPT = re.compile(r"^:[A-Z]+ ACCEPT$")

# --- reading what the commands print ------------------------------------------------------------


def iptables_rules(tool: str, saved: str) -> list[str]:
    """Every chain and rule of `<tool>-save`'s output, one per line as "<tool> <table> <line>",
    without the packet counters (which change while nothing else does)."""
    rules, table = [], ""
    for line in saved.splitlines():
        if line.startswith("*"):
            table = line[1:]
        elif line and not line.startswith(("#", "COMMIT")):
            rules.append(f"{tool} {table} {COUNTERS.sub('', line)}")
    return rules


def link_names(ip_link: str) -> list[str]:
    """The interface names of `ip -o link show` ("5: veth1@if2: <...>" is veth1)."""
    return [line.split(": ")[1].split("@")[0] for line in ip_link.splitlines() if ": " in line]


def addresses(ip_addr: str) -> list[str]:
    """`ip -o addr show` as "<interface> <family> <address/prefix>" lines."""
    return [" ".join(line.split()[1:4]) for line in ip_addr.splitlines() if line.strip()]


def local_addresses(ip_addr_lo: str) -> list[str]:
    """`ip -o addr show dev lo`'s addresses ("10.213.0.1/32"), sorted."""
    return sorted(fields[3] for fields in (line.split() for line in ip_addr_lo.splitlines()) if len(fields) > 3)


def netns_names(ip_netns: str) -> list[str]:
    """`ip netns list` prints "<name> (id: N)" once a namespace has an id: the name only."""
    return [line.split()[0] for line in ip_netns.splitlines() if line.strip()]


def mounts(mountinfo: str) -> list[str]:
    """/proc/self/mountinfo as "<mount point> <filesystem type>" lines, sorted."""
    found = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if "-" in fields[6:]:
            dash = fields.index("-", 6)
            found.append(f"{fields[4]} {fields[dash + 1]}")
    return sorted(found)


def mounts_under(mountinfo: str, prefixes: Iterable[str]) -> list[str]:
    """The mount points under any of `prefixes` (the prefix itself included), deepest first."""
    prefixes = [p.rstrip("/") for p in prefixes]
    points = [line.split()[4] for line in mountinfo.splitlines() if len(line.split()) > 4]
    ours = [p for p in points if any(p == prefix or p.startswith(prefix + "/") for prefix in prefixes)]
    return sorted(ours, key=len, reverse=True)


def cgroup_v1_mounts(proc_mounts: str) -> list[str]:
    """The mount points of every cgroup v1 hierarchy in /proc/mounts."""
    return [f[1] for f in (line.split() for line in proc_mounts.splitlines()) if len(f) > 2 and f[2] == "cgroup"]


def kubelet_cgroups(hierarchies: Iterable[str]) -> list[str]:
    """The kubelet's cgroups (kubepods*, and the pods' and containers' below it, which runc makes) in
    each hierarchy. Other cgroups come and go with other programs: never compared nor touched."""
    found = []
    for hierarchy in hierarchies:
        try:
            tops = [
                e.path
                for e in os.scandir(hierarchy)
                if e.is_dir(follow_symlinks=False) and e.name.startswith("kubepods")
            ]
        except OSError:
            continue
        for top in tops:
            for path, _dirs, _files in os.walk(top):
                found.append(path)
    return sorted(found)


# --- the restore plan ---------------------------------------------------------------------------


def q(text: str) -> str:
    return shlex.quote(text)


def added(now: Iterable[str], before: Iterable[str]) -> list[str]:
    """What is in `now` and was not `before`, in `now`'s order."""
    seen = set(before)
    return [line for line in now if line not in seen]


def plan_sysctls(recorded: str, current: dict[str, str]) -> list[str]:
    """Set every recorded sysctl that has changed back ("absent" ones were not there to restore)."""
    plan = []
    for line in recorded.splitlines():
        name, _, value = line.partition(" ")
        if not name or value == "absent" or current.get(name) == value:
            continue
        plan.append(f"sysctl -qw {q(f'{name}={value}')} >/dev/null || log {q(f'could not restore {name} to {value}')}")
    return plan


def plan_iptables(now: list[str], before: list[str]) -> list[str]:
    """Delete the rules added since the record, newest first, then the chains added: a chain can
    only go once nothing jumps to it."""
    new = added(now, before)
    plan = []
    for line in reversed(new):
        tool, table, rule = line.split(" ", 2)
        if rule.startswith("-A "):
            try:
                argv = [tool, "-w", "-t", table, "-D", *shlex.split(rule[3:])]
            except ValueError:  # unbalanced quotes: iptables-save never prints them, but say so if it does
                plan.append(f"log {q(f'could not read {tool} -t {table} rule: {rule}')}")
                continue
            plan.append(
                f"{shlex.join(argv)} 2>/dev/null || log {q(f'could not delete {tool} -t {table} rule: {rule}')}"
            )
    for line in new:
        tool, table, rule = line.split(" ", 2)
        if rule.startswith(":"):
            chain = rule[1:].split(" ")[0]
            plan.append(f"{shlex.join([tool, '-w', '-t', table, '-F', chain])} 2>/dev/null || true")
            plan.append(
                f"{shlex.join([tool, '-w', '-t', table, '-X', chain])} 2>/dev/null"
                f" || log {q(f'could not delete {tool} -t {table} chain {chain}')}"
            )
    return plan


def plan_empty_tables(left: list[str], before: list[str]) -> list[str]:
    """A table that did not exist before was made by the node's first rule in it (the kubelet's
    canary chains). With iptables' nf_tables backend it is an nft table of its own, left with its
    built-in chains once empty, which iptables cannot delete: nft deletes it when nothing but
    those chains, at policy ACCEPT, is left in it."""
    tables: dict[tuple[str, str], list[str]] = {}
    for line in left:
        tool, table, rule = line.split(" ", 2)
        tables.setdefault((tool, table), []).append(rule)
    existed = {tuple(line.split(" ", 2)[:2]) for line in before}
    plan = []
    for (tool, table), rules in sorted(tables.items()):
        if (tool, table) in existed:
            continue
        if all(BUILT_IN_AT_ACCEPT.match(rule) for rule in rules):
            family = NFT_FAMILY[tool]
            plan.append(
                f"nft delete table {family} {q(table)} 2>/dev/null || log {q(f'could not delete the nft table {family} {table}')}"
            )
    return plan


def plan_links(now: list[str], before: list[str]) -> list[str]:
    """The bridge and any veth left behind."""
    return [
        f"ip link delete {q(link)} 2>/dev/null || log {q(f'could not delete link {link}')}"
        for link in added(now, before)
    ]


def plan_node_address(node_ip: str, lo_before: list[str]) -> list[str]:
    address = f"{node_ip}/32"
    return [] if address in lo_before else [f"ip addr del {q(address)} dev lo 2>/dev/null || true"]


def plan_netns(now: list[str], before: list[str]) -> list[str]:
    plan = []
    for name in added(now, before):
        path = q(f"/run/netns/{name}")
        plan.append(f"umount {path} 2>/dev/null || umount -l {path} 2>/dev/null || true")
        plan.append(f"ip netns delete {q(name)} 2>/dev/null || rm -f {path}")
    return plan


def plan_cgroups(now: list[str], before: list[str]) -> list[str]:
    """Deepest first: a cgroup directory goes only when it has no child."""
    return [
        f"rmdir {q(d)} 2>/dev/null || log {q(f'could not remove cgroup {d}')}"
        for d in sorted(added(now, before), key=len, reverse=True)
    ]


def plan_dirs(dirs: list[str], before: list[str]) -> list[str]:
    return [f"rm -rf {q(d)}" for d in dirs if d not in before]


# --- the host, read -----------------------------------------------------------------------------


def run(*argv: str) -> str:
    """A command's output; nothing when it is missing or fails (a host without ip6tables, say)."""
    try:
        return subprocess.run(argv, capture_output=True, text=True).stdout
    except FileNotFoundError:
        return ""


def read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def host_iptables() -> list[str]:
    return [rule for tool in IPTABLES for rule in iptables_rules(tool, run(f"{tool}-save"))]


def host_sysctls(names: list[str]) -> dict[str, str]:
    values = {}
    for name in names:
        result = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True)
        values[name] = result.stdout.strip() if result.returncode == 0 else "absent"
    return values


def host_cgroups() -> list[str]:
    return kubelet_cgroups(cgroup_v1_mounts(read("/proc/mounts")))


def existing(dirs: list[str]) -> list[str]:
    return [d for d in dirs if os.path.exists(d)]


def lines(items: Iterable[str]) -> str:
    return "".join(f"{item}\n" for item in items)


def record(folder: Path, sysctls: list[str], dirs: list[str]) -> None:
    """The record start takes, written whole or not at all (an earlier start's record is kept)."""
    partial = folder.with_name(folder.name + ".tmp")
    partial.mkdir(parents=True, exist_ok=True)
    values = host_sysctls(sysctls)
    files = {
        "sysctls": lines(f"{name} {values[name]}" for name in sysctls),
        "iptables": lines(host_iptables()),
        "links": lines(sorted(link_names(run("ip", "-o", "link", "show")))),
        "dirs": lines(existing(dirs)),
        "netns": lines(sorted(netns_names(run("ip", "netns", "list")))),
        "cgroups": lines(host_cgroups()),
        "lo-addresses": lines(local_addresses(run("ip", "-o", "addr", "show", "dev", "lo"))),
    }
    for name, text in files.items():
        (partial / name).write_text(text)
    partial.rename(folder)


def recorded(folder: Path, name: str) -> list[str]:
    return read(str(folder / name)).splitlines()


def plan(folder: Path, node_ip: str, dirs: list[str]) -> list[str]:
    sysctl_record = read(str(folder / "sysctls"))
    names = [line.split(" ")[0] for line in sysctl_record.splitlines() if line]
    return [
        *plan_sysctls(sysctl_record, host_sysctls(names)),
        *plan_iptables(host_iptables(), recorded(folder, "iptables")),
        *plan_links(link_names(run("ip", "-o", "link", "show")), recorded(folder, "links")),
        *plan_node_address(node_ip, recorded(folder, "lo-addresses")),
        *plan_netns(netns_names(run("ip", "netns", "list")), recorded(folder, "netns")),
        *plan_cgroups(host_cgroups(), recorded(folder, "cgroups")),
        *plan_dirs(existing(dirs), recorded(folder, "dirs")),
    ]


def plan_tables(folder: Path) -> list[str]:
    if "nf_tables" not in run("iptables", "-V"):
        return []
    return plan_empty_tables(host_iptables(), recorded(folder, "iptables"))


def snapshot(sysctls: list[str], dirs: list[str]) -> str:
    """Everything the data plane may change, section by section, for a before/after comparison
    (dataplane.sh adds its processes and the listening sockets)."""
    values = host_sysctls(sysctls)
    sections = {
        "sysctls": [f"{name} = {values[name]}" for name in sysctls],
        "iptables": host_iptables(),
        "addresses": addresses(run("ip", "-o", "addr", "show")),
        "links": link_names(run("ip", "-o", "link", "show")),
        "network namespaces": run("ip", "netns", "list").splitlines(),
        "mounts": mounts(read("/proc/self/mountinfo")),
        "directories": existing(dirs),
        "cgroups": host_cgroups(),
    }
    return "".join(f"## {title}\n" + lines(items) for title, items in sections.items())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("snapshot", "record"):
        command = commands.add_parser(name)
        if name == "record":
            command.add_argument("folder", type=Path)
        command.add_argument("--sysctl", action="append", default=[])
        command.add_argument("--dir", action="append", default=[])
    command = commands.add_parser("plan")
    command.add_argument("folder", type=Path)
    command.add_argument("--node-ip", required=True)
    command.add_argument("--dir", action="append", default=[])
    commands.add_parser("plan-tables").add_argument("folder", type=Path)
    commands.add_parser("mounts").add_argument("prefixes", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "snapshot":
        sys.stdout.write(snapshot(args.sysctl, args.dir))
    elif args.command == "record":
        record(args.folder, args.sysctl, args.dir)
    elif args.command == "plan":
        sys.stdout.write(lines(plan(args.folder, args.node_ip, args.dir)))
    elif args.command == "plan-tables":
        sys.stdout.write(lines(plan_tables(args.folder)))
    else:
        sys.stdout.write(lines(mounts_under(read("/proc/self/mountinfo"), args.prefixes)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
