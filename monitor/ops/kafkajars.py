"""The Apache Kafka broker's jars, fetched once from Maven Central with ``scripts/kafka/pom.xml``, and the Java
that runs them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

__all__ = ["KAFKA_VERSION", "LocalKafkaError", "kafka_home", "fetch", "find_java"]

KAFKA_VERSION = "3.9.1"
_ROOT = Path(__file__).resolve().parents[2]
POM = _ROOT / "scripts" / "kafka" / "pom.xml"


class LocalKafkaError(RuntimeError):
    """The local broker cannot be fetched, started or reached; the message says what to do."""


def kafka_home() -> Path:
    """Where the jars live: ``MONITOR_KAFKA_HOME`` or ``.cache/kafka-<version>`` in the checkout (git-ignored)."""
    return Path(os.environ.get("MONITOR_KAFKA_HOME") or _ROOT / ".cache" / f"kafka-{KAFKA_VERSION}")


def _lib_dir() -> Path:
    return kafka_home() / "lib"


def _have_jars() -> bool:
    lib = _lib_dir()
    return (lib / ".complete").exists() and any(lib.glob(f"kafka_2.13-{KAFKA_VERSION}.jar"))


def fetch(*, quiet: bool = True) -> Path:
    """Download the broker jars with Maven (once); return the folder that holds them."""
    if _have_jars():
        return _lib_dir()
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LocalKafkaError(
            "Maven (mvn) is not on PATH; it is needed once to fetch the Kafka jars from Maven Central "
            "(Debian: apt-get install maven), or set MONITOR_KAFKA_HOME to a folder with lib/*.jar"
        )
    find_java()  # fail early and clearly when Java is missing too
    lib = _lib_dir()
    lib.mkdir(parents=True, exist_ok=True)
    cmd = [mvn, "-B", "-f", str(POM), "dependency:copy-dependencies", f"-DoutputDirectory={lib}",
           "-DincludeScope=runtime"]
    if quiet:
        cmd.insert(1, "-q")
    proc = subprocess.run(cmd, capture_output=quiet, text=True)
    if proc.returncode != 0:
        tail = (proc.stdout or "")[-2000:] + (proc.stderr or "")[-2000:]
        raise LocalKafkaError(f"mvn could not fetch the Kafka {KAFKA_VERSION} jars (exit {proc.returncode}):\n{tail}")
    (lib / ".complete").write_text(KAFKA_VERSION)
    return lib


def find_java() -> str:
    """The java executable, refusing one too old for the broker."""
    java = shutil.which("java")
    if java is None:
        raise LocalKafkaError("Java is not on PATH; Kafka needs Java 17 (Debian: apt-get install openjdk-17-jre-headless)")
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if m:
        major = int(m.group(1)) if m.group(1) != "1" else int(m.group(2) or 0)
        if major < 11:
            raise LocalKafkaError(f"Kafka {KAFKA_VERSION} needs Java 11 or newer (17 recommended); found {major}")
    return java
