"""Command-line options checked before any work, with the Settings sheet's ranges, and the files a command
reads (never an output). Each problem is one sentence; the CLI prints them and exits 2."""

from __future__ import annotations

import errno
import math
import os
import re
from pathlib import Path

from planner.input.schema import SETTING_BY_KEY

MAX_MIP_GAP = float(SETTING_BY_KEY["mip_rel_gap"].maximum)  # 0.5: who writes 1 means 1%, not a 100% gap


def max_threads() -> int:
    """A sane cap on --threads: four per core, within the Settings sheet's maximum (HiGHS aborts the process
    when asked for far more threads than it can start)."""
    cap = int(SETTING_BY_KEY["threads"].maximum or 1024)
    return max(4, min(cap, (os.cpu_count() or 1) * 4))


def max_workers() -> int:
    """A sane cap on sweep --workers: four per core (more only queue for the cores, each a process of its own)."""
    return max(4, (os.cpu_count() or 1) * 4)


def solve_option_problems(args) -> list[str]:
    problems: list[str] = []
    gap = getattr(args, "mip_gap", None)
    if gap is not None:
        if not math.isfinite(gap) or gap < 0:
            problems.append(f"--mip-gap must be a number from 0 to {MAX_MIP_GAP} (a fraction), not {gap}")
        elif gap > MAX_MIP_GAP:
            problems.append(f"--mip-gap {gap:g} is a fraction of the objective, at most {MAX_MIP_GAP}; "
                            "write 0.01 for 1%")
    limit = getattr(args, "time_limit", None)
    if limit is not None and (not math.isfinite(limit) or limit <= 0):
        problems.append(f"--time-limit must be a number of seconds above 0, not {limit}")
    threads = getattr(args, "threads", None)
    if threads is not None and not 0 <= threads <= max_threads():
        problems.append(f"--threads must be from 0 (the solver's default) to {max_threads()} on this machine, "
                        f"not {threads}")
    return problems


def other_option_problems(args) -> list[str]:
    problems: list[str] = []
    freeze = getattr(args, "freeze", None)
    if freeze is not None:
        if freeze < 0:
            problems.append(f"--freeze must be 0 or more quarters, not {freeze}")
        elif freeze > 0 and not getattr(args, "previous", None):
            problems.append(f"--freeze {freeze} needs --previous PLAN.xlsx (the plan whose decisions are kept)")
    if getattr(args, "command", "") == "run":
        problems += _stochastic_option_problems(args)
    one = getattr(args, "scenario", None)
    if getattr(args, "command", "") in ("run", "diagnose") and one is not None and not str(one).strip():
        problems.append("--scenario needs a scenario name of the Scenarios sheet (it was empty); leave the option "
                        "out to plan the workbook as it is")
    asked = getattr(args, "scenarios", None)
    if getattr(args, "command", "") == "compare" and asked is not None and \
            (not asked.strip() or any(not n.strip() for n in asked.split(","))):
        problems.append(f"--scenarios takes scenario names separated by commas (e.g. hbm_cut,samsung_early), not "
                        f"'{asked}' (an empty name); leave the option out to compare every scenario")
    if getattr(args, "command", "") == "sweep":
        if args.seed is not None and args.seed < 0:
            problems.append(f"--seed must be a whole number 0 or more, not {args.seed}")
        problems += _draws_problems(args.draws, MAX_SWEEP_DRAWS)
        if args.workers is not None and not 0 <= args.workers <= max_workers():
            problems.append(f"--workers must be from 0 (one per core) to {max_workers()} on this machine (four per "
                            f"core: each worker is a process of ~100 MB planning one draw at a time), not {args.workers}")
        if getattr(args, "scheduler", None) is not None:
            problems += scheduler_problems(args.scheduler)
    return problems


SCHEDULER_SCHEMES = ("tcp", "tls", "ucx", "ws", "wss", "inproc")
_SCHEDULER = re.compile(r"^(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+)"
                        r"(?::(?P<port>[^/]*))?/?$")


def scheduler_problems(address: str) -> list[str]:
    """--scheduler must be a Dask scheduler address: [SCHEME://]HOST:PORT, SCHEME one of SCHEDULER_SCHEMES (tcp
    when left out), PORT 1-65535 (inproc://NAME needs no port). Whether it answers is checked when connecting."""
    accepted = (f"--scheduler takes a Dask scheduler address tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786; scheme "
                f"{'/'.join(SCHEDULER_SCHEMES)}, tcp when left out; PORT 1-65535)")
    if address.strip().lower().startswith("inproc://"):
        return []
    m = _SCHEDULER.match(address.strip())
    if m is None:
        return [f"{accepted}, not '{address}'"]
    scheme, port = (m.group("scheme") or "tcp").lower(), m.group("port")
    if scheme not in SCHEDULER_SCHEMES:
        return [f"{accepted}, not '{address}' (unknown scheme '{scheme}')"]
    if scheme == "inproc":
        return []
    if port is None or not port.isdigit() or not 1 <= int(port) <= 65535:
        return [f"{accepted}, not '{address}' (" + ("no port" if port is None else f"port '{port}' is not 1-65535")
                + ")"]
    return []


MAX_SWEEP_DRAWS = 100_000  # one plan each: beyond this a sweep runs for days, and its Draws table outgrows a sheet
MAX_HEDGED_DRAWS = 2_000  # one extensive form of every draw: 200 MIP-S draws are already 1M columns (bench.hedged)


def _draws_problems(draws: int | None, most: int) -> list[str]:
    if draws is None:
        return []
    if draws < 1:
        return [f"--draws must be 1 or more, not {draws}"]
    if draws > most:
        return [f"--draws must be at most {most:,} here, not {draws:,}"]
    return []


def _stochastic_option_problems(args) -> list[str]:
    """--draws, --seed and --engine belong to --stochastic; --previous and --scenario do not."""
    given = [f"--{n}" for n in ("draws", "seed", "engine") if getattr(args, n, None) is not None]
    if not getattr(args, "stochastic", False):
        return [f"{', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} to --stochastic only"] if given else []
    problems = _draws_problems(args.draws, MAX_HEDGED_DRAWS)
    if args.seed is not None and args.seed < 0:
        problems.append(f"--seed must be a whole number 0 or more, not {args.seed}")
    elif args.seed is not None and args.draws is None:  # the named scenarios are not sampled: a seed changes nothing
        problems.append(f"--seed {args.seed} applies to sampled scenarios only: add --draws N (without it the hedged "
                        "plan takes the named scenarios of ScenarioWeights / Scenarios)")
    for flag in ("previous", "scenario"):
        if getattr(args, flag, None):
            problems.append(f"--{flag} cannot be combined with --stochastic (the hedged plan plans every scenario "
                            "of its set from the workbook as it is)")
    return problems


READ_ROLES = {"input": "input workbook", "previous": "previous plan (--previous)", "plan": "plan workbook",
              "actuals": "actuals workbook (--actuals)", "old": "old plan", "new": "new plan"}


def files_read(args) -> list[Path]:
    """Every file the command reads."""
    return [Path(getattr(args, n)) for n in READ_ROLES if getattr(args, n, None)]


def missing_files(args) -> list[str]:
    """A file the command reads that is not there, by its role, before any work (a missing --previous was found
    only after the model was built)."""
    problems = []
    for name, role in READ_ROLES.items():
        if getattr(args, name, None):
            path = Path(getattr(args, name))
            unusable = _path_error(path)
            if unusable:
                problems.append(f"the {role} {path} cannot be read: {unusable}")
            elif not path.exists():
                problems.append(f"the {role} {path} does not exist")
    return problems


def _path_error(path: Path) -> str:
    """Why the file system refuses to look `path` up (a name longer than it allows: ENAMETOOLONG), or ''. Path's
    exists() and is_dir() raise it rather than answer False."""
    try:
        path.exists()
        path.parent.is_dir()
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # exists() says False for it: 'does not exist' was the wrong reason
            return "it is a loop of symbolic links (each points on to the next); point the link at a real file"
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
            return exc.strerror or str(exc)
    return ""


def outputs(args) -> list[Path]:
    """The files the command writes (as far as the arguments say)."""
    command = getattr(args, "command", "")
    if command == "template":
        return [Path(args.output)]
    out = getattr(args, "output", None)
    if not out:
        return []
    paths = [Path(out)]
    if command == "sweep":
        paths.append(Path(out).with_name(f"{Path(out).stem}.draws.parquet"))
    return paths


def output_problems(args) -> list[str]:
    """An output that cannot be written where it is asked for: not an .xlsx, or in a folder that does not exist
    (refused before any work, like a bad option); and an existing output of `roll` without --force (as `template`
    refuses it in planner/input/template.py)."""
    from planner.output.xlsx import same_file

    wanted = outputs(args)[:1]  # the workbook; sweep's .draws.parquet goes beside it
    problems = []
    for out in wanted:
        unusable = _path_error(out)
        if unusable:
            problems.append(f"the output {out} cannot be written: {unusable}")
        elif out.is_dir():
            problems.append(f"the output {out} is a folder; name the workbook to write, e.g. -o {out / 'PLAN.xlsx'}")
        elif out.suffix.lower() != ".xlsx":
            problems.append(f"the output {out} must end in .xlsx" + (" and have a name before it (e.g. PLAN.xlsx)"
                                                                     if out.name.lower() == ".xlsx" else ""))
        elif out.parent.exists() and not out.parent.is_dir():
            problems.append(f"the output's folder {out.parent} is a file, not a folder (for {out}); choose another "
                            "path" + (" with -o" if getattr(args, "command", "") != "template" else ""))
        elif not out.parent.is_dir():
            problems.append(f"the output folder {out.parent} does not exist (for {out}); create it or choose another "
                            "path" + (" with -o" if getattr(args, "command", "") != "template" else ""))
        elif not os.access(out.parent, os.W_OK | os.X_OK):  # found before the solve, not after it
            problems.append(f"the output folder {out.parent} is not writable for you (for {out}); choose another "
                            "path" + (" with -o" if getattr(args, "command", "") != "template" else ""))
        elif getattr(args, "command", "") == "roll" and out.exists() and not getattr(args, "force", False) \
                and not any(same_file(out, path) for path in files_read(args)):  # that one is said below
            problems.append(f"{out} already exists; roll never overwrites a file (it may be next quarter's input, "
                            "with your edits). Choose another name with -o, or pass --force to replace it")
    return problems


def io_problems(args) -> list[str]:
    from planner.output.xlsx import same_file

    problems = missing_files(args) + output_problems(args)
    for out in outputs(args):
        for path in files_read(args):
            if same_file(out, path):
                problems.append(f"the output {out} is also read by this command ({path}); a file that is read is "
                                "never overwritten. Choose another name with -o")
    return problems


def argument_problems(args) -> list[str]:
    """Every problem of the options, each once (`diff P P -o P` reads P twice)."""
    return list(dict.fromkeys(solve_option_problems(args) + other_option_problems(args) + io_problems(args)))
