#!/usr/bin/env python3
"""Checks the example workspace's charts against the Helm oracle.

For every (cluster, component) of the example fleet it layers the values the
way DESIGN.md section 2 says (voyage values, then group values, then the
cluster's overlay; the chart's values.yaml is applied by Helm itself) and
renders the chart with `../shared/tools/helm-oracle render --manifest`:

  * the render must succeed, and every document must parse as YAML
    (when PyYAML is importable) and carry apiVersion, kind and metadata.name;
  * when a `wayfinder` binary is available (`$WAYFINDER`, or the
    workspace's target/debug/wayfinder), `wayfinder template` must print
    exactly the oracle's manifest text.

It also checks that the library chart vendored into its dependents'
charts/ directories is identical to charts/platform-lib.

    scripts/check-example-charts.sh [--no-wayfinder] [--only CLUSTER/COMPONENT]

Exit status: 0 all good, 1 a check failed, 2 the oracle is not available.
"""
import argparse
import difflib
import filecmp
import glob
import json
import os
import shutil
import subprocess
import sys
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def shared_dir():
    """../shared beside the repository ($WAYFINDER_SHARED_DIR overrides)."""
    env = os.environ.get("WAYFINDER_SHARED_DIR")
    if env:
        return env
    for up in ("..", os.path.join("..", "..")):
        cand = os.path.normpath(os.path.join(ROOT, up, "shared"))
        if os.path.isdir(cand):
            return cand
    return os.path.normpath(os.path.join(ROOT, "..", "shared"))


ORACLE = os.path.join(shared_dir(), "tools", "helm-oracle")


def load_toml(path):
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def voyages():
    out = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "voyages", "*", "voyage.toml"))):
        v = load_toml(path)
        out[(v["name"], v["version"])] = (os.path.dirname(path), v)
    return out


def renders(kube_version):
    """Yields (cluster, component, chart_dir, values_files, namespace)."""
    known = voyages()
    for path in sorted(glob.glob(os.path.join(ROOT, "clusters", "*", "*", "cluster.toml"))):
        cdir = os.path.dirname(path)
        group_dir = os.path.dirname(cdir)
        c = load_toml(path)
        name, version = c["voyage"].split("@", 1)
        vdir, voyage = known[(name, version)]
        comps = {}
        for comp, spec in voyage.get("components", {}).items():
            comps[comp] = {
                "chart": os.path.join(ROOT, spec["chart"]),
                "namespace": spec.get("namespace", "default"),
                "values": [os.path.join(vdir, f) for f in spec.get("values", [])],
            }
        for comp, spec in c.get("components", {}).items():
            entry = comps.setdefault(comp, {"values": []})
            if "chart" in spec:
                entry["chart"] = os.path.join(ROOT, spec["chart"])
            if "namespace" in spec:
                entry["namespace"] = spec["namespace"]
            entry.setdefault("namespace", "default")
            entry["cluster_values"] = [os.path.join(cdir, f) for f in spec.get("values", [])]
        for comp in sorted(comps):
            e = comps[comp]
            files = list(e["values"])
            group_values = os.path.join(group_dir, "values", comp + ".yaml")
            if os.path.exists(group_values):
                files.append(group_values)
            files += e.get("cluster_values", [])
            yield c["name"], comp, e["chart"], files, e["namespace"]


def oracle(chart, files, name, namespace, kube_version):
    cmd = [sys.executable, ORACLE, "render", chart, "--name", name, "--namespace", namespace,
           "--kube-version", "v" + kube_version.lstrip("v"), "--manifest"]
    for f in files:
        cmd += ["-f", f]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0 and not res.stdout.strip():
        return {"ok": False, "error": res.stderr.strip()}
    return json.loads(res.stdout)


def find_wayfinder():
    env = os.environ.get("WAYFINDER")
    if env:
        return env
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    cand = os.path.join(target, "debug", "wayfinder")
    return cand if os.access(cand, os.X_OK) else None


def check_docs(manifest):
    """Returns a list of problems with the documents of a manifest."""
    try:
        import yaml
    except ImportError:
        return []
    problems = []
    try:
        docs = [d for d in yaml.safe_load_all(manifest) if d is not None]
    except yaml.YAMLError as e:
        return [f"not valid YAML: {e}"]
    if not docs:
        problems.append("renders no documents")
    for d in docs:
        if not isinstance(d, dict) or not d.get("apiVersion") or not d.get("kind") \
                or not (d.get("metadata") or {}).get("name"):
            problems.append(f"document without apiVersion/kind/metadata.name: {str(d)[:120]}")
    return problems


def check_vendored():
    problems = []
    lib = os.path.join(ROOT, "charts", "platform-lib")
    for copy in sorted(glob.glob(os.path.join(ROOT, "charts", "*", "charts", "platform-lib"))):
        cmp = filecmp.dircmp(lib, copy)
        stack = [cmp]
        while stack:
            d = stack.pop()
            if d.left_only or d.right_only or d.diff_files or d.funny_files:
                problems.append(f"{os.path.relpath(copy, ROOT)} differs from charts/platform-lib "
                                f"(run: rm -r {os.path.relpath(copy, ROOT)} && cp -r charts/platform-lib "
                                f"{os.path.relpath(os.path.dirname(copy), ROOT)}/)")
                break
            stack.extend(d.subdirs.values())
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-wayfinder", action="store_true", help="only check with the oracle")
    ap.add_argument("--only", help="CLUSTER/COMPONENT")
    args = ap.parse_args()

    if subprocess.run([sys.executable, "-c", "import helm_python"], capture_output=True).returncode:
        print("helm oracle not importable (python3 -m pip install helm-python-sdk==0.2.2)", file=sys.stderr)
        return 2
    ws = load_toml(os.path.join(ROOT, "workspace.toml"))
    kube = ws["workspace"].get("kube_version", "1.31.0")
    wayfinder = None if args.no_wayfinder else find_wayfinder()
    if wayfinder is None and not args.no_wayfinder:
        print("note: no wayfinder binary found; checking with the oracle only", file=sys.stderr)

    failures = check_vendored()
    count = 0
    for cluster, comp, chart, files, ns in renders(kube):
        label = f"{cluster}/{comp}"
        if args.only and args.only != label:
            continue
        count += 1
        rel = [os.path.relpath(f, ROOT) for f in files]
        res = oracle(chart, files, comp, ns, kube)
        if not res.get("ok"):
            failures.append(f"{label}: oracle error: {res.get('error')}")
            continue
        if "manifest" not in res:
            failures.append(f"{label}: oracle manifest error: {res.get('manifest_error')}")
            continue
        for p in check_docs(res["manifest"]):
            failures.append(f"{label}: {p}")
        status = "oracle ok"
        if wayfinder:
            cmd = [wayfinder, "template", os.path.relpath(chart, ROOT), "--name", comp,
                   "--namespace", ns, "--kube-version", kube]
            for f in rel:
                cmd += ["-f", f]
            got = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            if got.returncode != 0:
                failures.append(f"{label}: `{' '.join(cmd)}` failed ({got.returncode}): {got.stderr.strip()[:400]}")
                status = "wayfinder failed"
            elif got.stdout != res["manifest"]:
                diff = difflib.unified_diff(res["manifest"].splitlines(True), got.stdout.splitlines(True),
                                            "helm", "wayfinder", n=1)
                failures.append(f"{label}: wayfinder template differs from helm:\n" + "".join(list(diff)[:60]))
                status = "DIFFERS"
            else:
                status = "identical"
        print(f"{label:32} {status:18} -f {' -f '.join(rel)}")
    for f in failures:
        print("FAIL " + f, file=sys.stderr)
    print(f"{count} renders checked, {len(failures)} problems", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
