#!/usr/bin/env bash
# fetch-chromium150.sh [DEST]
#
# Brings Debian's Chromium 150 (the last Debian build whose DBSC implementation
# answers Secure-Session-Registration with the flags below) into DEST without
# installing it: `apt-get download` of chromium + chromium-common at one exact
# version, `dpkg -x` into DEST. Idempotent: a DEST that already holds a working
# binary of that version is reused as it is.
#
# Success: exit 0, prints the binary's absolute path on stdout (one line).
# Failure: exit non-zero, prints ONE line on stderr saying why (the test suite
# shows it as its skip reason). Nothing else is printed on stdout either way.
#
#   exit 2  no apt tooling on this machine
#   exit 3  the version is not offered by the apt sources (gone from the mirror)
#   exit 4  the download failed (no network, mirror unreachable)
#   exit 5  unpacking failed
#   exit 6  shared libraries missing (names given)
#   exit 7  the binary does not start / prints another version
#
# Environment: CHROMIUM150_VERSION overrides the Debian version string;
# CHROMIUM150_NO_APT_UPDATE=1 forbids the one `apt-get update` it may run.
#
# Launch flags that make DBSC work (for the caller):
#   --headless --no-sandbox --disable-gpu --disable-background-networking
#   --disable-component-update
#   --enable-features=DeviceBoundSessions,EnableBoundSessionCredentialsSoftwareKeysForManualTesting
set -u -o pipefail

VERSION="${CHROMIUM150_VERSION:-150.0.7871.100-1~deb12u1}"
UPSTREAM="${VERSION%%-*}"                       # 150.0.7871.100
DEST="${1:-${TMPDIR:-/tmp}/gatehouse-chromium150}"
BIN_REL="usr/lib/chromium/chromium"

fail() { # code, message
  echo "fetch-chromium150: $2" >&2
  exit "$1"
}

check_binary() { # dir -> 0 if the binary there runs and is $UPSTREAM
  local bin="$1/$BIN_REL" out
  [ -x "$bin" ] || return 1
  out="$(timeout 30 "$bin" --headless --no-sandbox --disable-gpu \
    --disable-background-networking --disable-component-update --version 2>/dev/null)" || return 1
  case "$out" in *"Chromium $UPSTREAM"*) return 0 ;; *) return 1 ;; esac
}

missing_libs() { # dir -> prints the sonames ldd cannot find
  LD_LIBRARY_PATH="$1/usr/lib/chromium${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    ldd "$1/$BIN_REL" 2>/dev/null | awk '/not found/ {print $1}' | sort -u | tr '\n' ' '
}

# 1. Already there?
if check_binary "$DEST"; then
  echo "$DEST/$BIN_REL"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 && command -v apt-cache >/dev/null 2>&1 &&
  command -v dpkg >/dev/null 2>&1 || fail 2 "apt-get/apt-cache/dpkg not found: not a Debian machine"

# 2. Is the exact version offered? (an old or empty package list may need one update)
offered() {
  apt-cache madison chromium 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}' | grep -qxF "$VERSION" &&
    apt-cache madison chromium-common 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}' | grep -qxF "$VERSION"
}
if ! offered; then
  if [ "${CHROMIUM150_NO_APT_UPDATE:-0}" != 1 ] && [ "$(id -u)" = 0 ]; then
    timeout 300 apt-get update >/dev/null 2>&1 ||
      fail 4 "apt-get update failed (no network or mirror unreachable); chromium=$VERSION unknown"
  fi
  offered || fail 3 "chromium=$VERSION is not offered by the apt sources (gone from the mirror?)"
fi

# 3. Download into a scratch folder, unpack into DEST.tmp, then move into place.
WORK="$(mktemp -d "${TMPDIR:-/tmp}/chromium150.XXXXXX")" || fail 4 "cannot create a temporary folder"
trap 'rm -rf "$WORK"' EXIT
# apt drops privileges to _apt for downloads; let it write here.
if id _apt >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then chown _apt "$WORK" 2>/dev/null || true; fi
(cd "$WORK" && timeout 600 apt-get download "chromium=$VERSION" "chromium-common=$VERSION") \
  >"$WORK/download.log" 2>&1 ||
  fail 4 "apt-get download chromium=$VERSION failed: $( (grep -E '^E:' "$WORK/download.log" || grep -E '^Err' "$WORK/download.log" || tail -n 1 "$WORK/download.log") | head -1 | cut -c1-240)"

ls "$WORK"/chromium_*.deb "$WORK"/chromium-common_*.deb >/dev/null 2>&1 ||
  fail 4 "apt-get download did not leave both .deb files"

rm -rf "$DEST.tmp"
mkdir -p "$DEST.tmp" || fail 5 "cannot create $DEST.tmp"
for deb in "$WORK"/chromium-common_*.deb "$WORK"/chromium_*.deb; do
  dpkg -x "$deb" "$DEST.tmp" 2>>"$WORK/unpack.log" || fail 5 "dpkg -x $(basename "$deb") failed"
done
[ -x "$DEST.tmp/$BIN_REL" ] || fail 5 "no $BIN_REL in the unpacked packages"

MISSING="$(missing_libs "$DEST.tmp")"
if [ -n "$MISSING" ]; then
  rm -rf "$DEST.tmp"
  fail 6 "shared libraries missing: ${MISSING% } (apt-get install chromium brings them)"
fi

rm -rf "$DEST"
mv "$DEST.tmp" "$DEST" || fail 5 "cannot move the unpacked tree to $DEST"

check_binary "$DEST" || fail 7 "$DEST/$BIN_REL does not start headless or is not Chromium $UPSTREAM"
echo "$DEST/$BIN_REL"
exit 0
