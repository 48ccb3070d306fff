#!/bin/sh
# Debian packages the tests and the coordinator need: the mosquitto MQTT broker
# (with mosquitto_passwd) and openssl (throwaway TLS certificates in tests).
# Installs only what is missing; uses sudo when not root.
set -e
missing=""
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null 2>&1 || missing="$missing mosquitto"
command -v mosquitto_passwd >/dev/null 2>&1 || missing="$missing mosquitto"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
