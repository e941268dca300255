"""Where cargo puts this repository's binaries, for the scripts in
scripts/ and benches/ to default to: $CARGO_TARGET_DIR when set (as cargo
reads it), else target/ at the repository root."""

import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def release_bin(name):
    """The path of binary `name` as `cargo build --release` leaves it."""
    return os.path.join(os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target"), "release", name)
