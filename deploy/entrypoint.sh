#!/bin/sh
# Start-up of the treaty tracker, in the container and on a plain server alike:
#
#   1. migrate the schema (`tracker db upgrade`), waiting for the database if it is still
#      starting (TRACKER_MIGRATE_ATTEMPTS tries, TRACKER_MIGRATE_DELAY seconds apart);
#   2. load the bundled CCM dataset (`tracker init`: adds only what is missing);
#   3. run what was asked:
#        no argument      the Telegram bot when TRACKER_TELEGRAM_TOKEN is set, else the console chat
#        bot | query ...  that tracker command (`entrypoint.sh query count parties`)
#        sh, bash, python, python3, or a path   that program (`entrypoint.sh sh`)
#
# TRACKER_BIN names the tracker executable (default: `tracker` on PATH).
set -eu

tracker="${TRACKER_BIN:-tracker}"
attempts="${TRACKER_MIGRATE_ATTEMPTS:-10}"
delay="${TRACKER_MIGRATE_DELAY:-3}"

log() {
    echo "entrypoint: $*" >&2
}

n=1
until "$tracker" db upgrade >&2; do
    if [ "$n" -ge "$attempts" ]; then
        log "the schema could not be migrated after $attempts attempts; giving up"
        exit 1
    fi
    log "database not ready (attempt $n of $attempts); retrying in ${delay}s"
    n=$((n + 1))
    sleep "$delay"
done

log "loading the bundled CCM dataset (adds only what is missing)"
"$tracker" init >&2

if [ "$#" -eq 0 ]; then
    if [ -n "${TRACKER_TELEGRAM_TOKEN:-}" ]; then
        log "starting the Telegram bot"
        exec "$tracker" bot
    fi
    log "TRACKER_TELEGRAM_TOKEN is not set: the same commands in a console chat"
    exec "$tracker" chat
fi

case "$1" in
    sh | bash | python | python3 | */*)
        exec "$@"
        ;;
    *)
        exec "$tracker" "$@"
        ;;
esac
