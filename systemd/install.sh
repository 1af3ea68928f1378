#!/usr/bin/env bash
# Sets this Debian box up for Một Cửa from this checkout (normally /opt/motcua): the motcua and
# motcua-browser users, /etc/motcua and /var/backups/motcua, the units (with this checkout's path),
# the udev rules, the browsers' PAM session, and `sudo motcua …` for the admin.
# Safe to run again: after every upgrade it refreshes the units from the checkout.
#
#   sudo /opt/motcua/systemd/install.sh [ROLE...]
#
# Roles say what this box runs; their units are enabled (not started: fill /etc/motcua/*.env first):
#   server   motcua-server.service          agent    motcua-agent.service
#   backup   motcua-backup.timer            kiosk    motcua-kiosk-browser.service
#   display  motcua-display-browser.service
# kiosk and display also install the Chromium policy (/etc/chromium/policies/managed/motcua.json) and
# make graphical.target the default. The whole walk-through is systemd/DEPLOY.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
if [ "$(id -u)" != 0 ]; then
    echo "install.sh: run it as root: sudo $0 $*" >&2
    exit 1
fi

declare -A unit_of=([server]=motcua-server.service [agent]=motcua-agent.service [backup]=motcua-backup.timer
                    [kiosk]=motcua-kiosk-browser.service [display]=motcua-display-browser.service)
for role in "$@"; do
    if [ -z "${unit_of[$role]:-}" ]; then
        echo "install.sh: unknown role '$role' (server, agent, backup, kiosk, display)" >&2
        exit 2
    fi
done
if [[ " $* " == *" kiosk "* && " $* " == *" display "* ]]; then
    echo "install.sh: one screen shows one page: choose kiosk or display" >&2
    exit 2
fi
say() { printf 'install.sh: %s\n' "$*"; }

# Groups the units name (input and render come with udev; made here if missing so units can start).
for group in dialout lp input video audio; do
    getent group "$group" >/dev/null || { groupadd --system "$group"; say "created group $group"; }
done
if ! getent passwd motcua >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/motcua --no-create-home --shell /usr/sbin/nologin \
        --comment "Mot Cua Queue" motcua
    say "created user motcua"
fi
if ! getent passwd motcua-browser >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/motcua-browser --no-create-home --shell /usr/sbin/nologin \
        --comment "Mot Cua kiosk and display browser" motcua-browser
    say "created user motcua-browser"
fi

install -d -m 0755 /etc/motcua
# The server's StateDirectory; made here too so that `sudo motcua …` works before its first start.
install -d -m 0750 -o motcua -g motcua /var/lib/motcua /var/backups/motcua

for unit in "$here"/*.service "$here"/*.timer; do
    sed "s#/opt/motcua#$root#g" "$unit" > "/etc/systemd/system/.$(basename "$unit").new"
    chmod 0644 "/etc/systemd/system/.$(basename "$unit").new"
    mv "/etc/systemd/system/.$(basename "$unit").new" "/etc/systemd/system/$(basename "$unit")"
done
say "units installed in /etc/systemd/system (paths under $root)"

ln -sfn "$here/motcua-admin" /usr/local/bin/motcua
install -D -m 0644 "$here/99-motcua.rules" /etc/udev/rules.d/99-motcua.rules
install -D -m 0644 "$here/pam-motcua-browser" /etc/pam.d/motcua-browser
if command -v udevadm >/dev/null 2>&1 && [ -d /run/udev ]; then
    udevadm control --reload
    udevadm trigger --subsystem-match=usb --subsystem-match=usbmisc --subsystem-match=tty --subsystem-match=input
fi

if [ -x "$root/.venv/bin/python" ]; then
    # The units see the checkout read-only: compile once here, or every start compiles in memory.
    "$root/.venv/bin/python" -m compileall -q "$root/queue_server" "$root/hardware" "$root/kiosk" \
        "$root/display" "$root/rating" >/dev/null || true
elif [[ " $* " == *" server "* || " $* " == *" agent "* || " $* " == *" backup "* ]]; then
    say "no virtualenv at $root/.venv yet: run  sudo make -C $root .venv/.runtime  before starting"
fi

if [[ " $* " == *" kiosk "* || " $* " == *" display "* ]]; then
    install -d -m 0755 /etc/chromium/policies/managed
    install -m 0644 "$here/chromium-policy.json" /etc/chromium/policies/managed/motcua.json
fi

if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    for role in "$@"; do
        systemctl enable "${unit_of[$role]}"
    done
    if [[ " $* " == *" kiosk "* || " $* " == *" display "* ]] && [ "$(systemctl get-default)" != graphical.target ]; then
        systemctl set-default graphical.target
    fi
elif [ $# -gt 0 ]; then
    say "systemd is not running here: enable the units yourself (${*})"
fi

missing=()
for role in "$@"; do
    case $role in
        server|backup) env=server.env ;;
        agent) env=agent.env ;;
        kiosk|display) env=$role-browser.env ;;
    esac
    [ -e "/etc/motcua/$env" ] || [[ " ${missing[*]} " == *" $env "* ]] || missing+=("$env")
done
for env in "${missing[@]}"; do
    say "next: sudo install -m 0600 $here/$env.example /etc/motcua/$env && sudoedit /etc/motcua/$env"
done
say "done"
