#!/usr/bin/env bash
# `npm run test:stack`: builds the production image and runs compose.prod.yaml (two app replicas,
# PostgreSQL, backups, the proxy) in a Docker daemon of its own, then checks it from outside
# (tests/stack/stack.spec.ts). Everything lives in one temporary folder, removed at the end.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
started=$SECONDS

need=()
[ -x /usr/sbin/dockerd ] || need+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
	echo "stack: installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

tmp="$(mktemp -d /tmp/tutor-stack.XXXXXX)"
mkdir -p "$tmp/bin" "$tmp/project" "$tmp/images"
# Debian's docker CLI, matching its daemon, ahead of any other on PATH.
ln -s /usr/bin/docker "$tmp/bin/docker"
export PATH="$tmp/bin:$PATH"
export DOCKER_HOST="unix://$tmp/docker.sock" DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0
export COMPOSE_PROJECT_NAME=ai-coding-tutor COMPOSE_FILE=compose.prod.yaml:compose.stack.yaml
compose() { (cd "$tmp/project" && docker-compose "$@"); }

cleanup() {
	local status=$?
	set +e
	if [ $status -ne 0 ] && [ -f "$tmp/project/.env" ]; then
		compose ps
		compose logs --no-color --tail=80
	fi
	compose down -v --remove-orphans >/dev/null 2>&1
	[ -f "$tmp/docker.pid" ] && kill "$(cat "$tmp/docker.pid")" 2>/dev/null
	for _ in $(seq 100); do [ -f "$tmp/docker.pid" ] || break; sleep 0.2; done
	rm -rf "$tmp"
	echo "stack: $([ $status -eq 0 ] && echo passed || echo FAILED) in $((SECONDS - started)) s"
}
trap cleanup EXIT

dockerd --storage-driver=vfs --data-root "$tmp/data" --exec-root "$tmp/exec" \
	--pidfile "$tmp/docker.pid" -H "$DOCKER_HOST" >"$tmp/dockerd.log" 2>&1 &
for _ in $(seq 150); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
docker info >/dev/null || { cat "$tmp/dockerd.log"; exit 1; }

t=$SECONDS
"$root/tests/stack/images.sh" "$tmp/images"
echo "stack: base images built in $((SECONDS - t)) s"

# The project as committed (plus uncommitted edits), with an operator's .env beside it.
git -C "$root" ls-files -z --cached --others --exclude-standard |
	tar -C "$root" --null --ignore-failed-read -T - -c | tar -C "$tmp/project" -x
cp "$root/tests/stack/compose.override.yaml" "$tmp/project/compose.stack.yaml"
cp "$tmp/project/.env.example" "$tmp/project/.env"
sed -i -e "s/^DOMAIN=.*/DOMAIN=localhost/" \
	-e "s/^POSTGRES_PASSWORD=.*/POSTGRES_PASSWORD=$(openssl rand -hex 16)/" \
	-e "s/^JWT_SECRET_KEY=.*/JWT_SECRET_KEY=$(openssl rand -hex 48)/" \
	-e "s/^LLM_PROVIDER=.*/LLM_PROVIDER=mock/" \
	-e "s/^MOCK_TOKEN_COUNT=.*/MOCK_TOKEN_COUNT=60/" \
	-e "s/^MOCK_TOKEN_DELAY_MS=.*/MOCK_TOKEN_DELAY_MS=50/" \
	-e "s/^ADMIN_SETUP_CODE=.*/ADMIN_SETUP_CODE=stack-admin-setup-code-0123456789/" \
	"$tmp/project/.env"

t=$SECONDS
compose build app
build_s=$((SECONDS - t))
image_mb=$(($(docker image inspect -f '{{.Size}}' ai-coding-tutor:latest) / 1000000))
echo "stack: app image built in $build_s s, $image_mb MB"

compose up -d
export STACK_DIR="$tmp/project" STACK_BUILD_SECONDS=$build_s STACK_IMAGE_MB=$image_mb
(cd "$root" && npx vitest run --config tests/stack/vitest.config.ts)
