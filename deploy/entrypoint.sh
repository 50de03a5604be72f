#!/bin/sh
# Entry point of the Runnerly image (Dockerfile). Loads the NATS credentials
# file named by RUNNERLY_CREDS (written by deploy/nats-auth.ts: NATS_USER,
# NATS_PASS, NATS_URL), then runs the command; with no command, the process
# named by SERVICE: `<name>` (a service, or `edge`) → bun dist/<name>/main.js,
# the bundle `runnerly build` writes (the Dockerfile builds them), or without
# one bun services/<name>/main.ts (bun edge/main.ts for the edge).
set -eu

if [ -n "${RUNNERLY_CREDS:-}" ]; then
  if [ ! -r "$RUNNERLY_CREDS" ]; then
    echo "✘ RUNNERLY_CREDS=$RUNNERLY_CREDS is missing or unreadable; generate it with deploy/nats-auth.ts (compose: the nats-auth service)" >&2
    exit 1
  fi
  set -a
  . "$RUNNERLY_CREDS"
  set +a
fi

# Replicas share a service name; the container's host name tells their NATS connections apart.
export SERVICE_INSTANCE="${SERVICE_INSTANCE:-${HOSTNAME:-}}"

if [ "$#" -eq 0 ]; then
  case "${SERVICE:-}" in
    "")
      echo "✘ set SERVICE (edge or a service name) or give a command" >&2
      exit 64
      ;;
    *)
      # The bundle `runnerly build` made (the Dockerfile does), else the sources.
      if [ -f "dist/$SERVICE/main.js" ]; then
        set -- bun "dist/$SERVICE/main.js"
      elif [ "$SERVICE" = edge ]; then
        set -- bun edge/main.ts
      elif [ -f "services/$SERVICE/main.ts" ]; then
        set -- bun "services/$SERVICE/main.ts"
      else
        echo "✘ SERVICE=$SERVICE: no services/$SERVICE/main.ts in this image" >&2
        exit 64
      fi
      ;;
  esac
fi
exec "$@"
