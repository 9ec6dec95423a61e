#!/bin/bash
# bench/run.sh - sftpdrop side by side with OpenSSH (internal-sftp) and ProFTPD
# (mod_sftp) on 127.0.0.1, same client (OpenSSH sftp), same key, same cipher.
# Run as root on Debian 12 from the source tree:  bench/run.sh [RESULT.md]
# Environment: BENCH_RUNS (3), BENCH_BIG_MIB (1024), BENCH_PAR (32),
# BENCH_PAR_MIB (32), BENCH_SMALL_FILES (2000), BENCH_SESSIONS (200),
# BENCH_IDLE (100), BENCH_LAT_FILES (100), BENCH_ONLY ("sd_on sd_off ssh pf"),
# BENCH_DIR (parent of the work dir, /var/tmp), BENCH_KEEP=1 keeps the work dir.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$SRC/bench/results-$(date -u +%Y%m%dT%H%M%SZ).md}
RUNS=${BENCH_RUNS:-3}
BIG_MIB=${BENCH_BIG_MIB:-1024}
PAR=${BENCH_PAR:-32}
PAR_MIB=${BENCH_PAR_MIB:-32}
SMALL_FILES=${BENCH_SMALL_FILES:-2000}
SESSIONS=${BENCH_SESSIONS:-200}
IDLE=${BENCH_IDLE:-100}
IDLE_RUNS=${BENCH_IDLE_RUNS:-$RUNS}
LAT_FILES=${BENCH_LAT_FILES:-100}
ONLY=${BENCH_ONLY:-"sd_on sd_off ssh pf"}
WORK=${BENCH_WORKLOADS:-"big par small sess idle lat"}
REL=123456
BUSER=bench
SYSUSER=sftpbench

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# ---- peers and build -------------------------------------------------------
need=()
command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v sftp >/dev/null || need+=(openssh-client)
[ -x /usr/sbin/proftpd ] || need+=(proftpd-basic)
[ -e /usr/lib/proftpd/mod_sftp.so ] || need+=(proftpd-mod-crypto)
command -v cmake >/dev/null || need+=(cmake)
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	# keep apt from starting the system services
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d.bench
	had_policy=0; [ -e /usr/sbin/policy-rc.d ] && had_policy=1
	[ $had_policy = 1 ] || { cp /usr/sbin/policy-rc.d.bench /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; }
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
	[ $had_policy = 1 ] || rm -f /usr/sbin/policy-rc.d
	rm -f /usr/sbin/policy-rc.d.bench
	[ -e "$SRC/.ci/deps" ] && bash "$SRC/.ci/deps" >/dev/null 2>&1 || true
fi
SSHD=/usr/sbin/sshd
PROFTPD=/usr/sbin/proftpd

BUILD=${BENCH_BUILD:-$SRC/build-bench}
log "building sftpdrop in $BUILD"
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)" >/dev/null
ADMIN=$BUILD/admin/sftpdrop-admin
DAEMON=$BUILD/server/sftpdropd
INGEST=$BUILD/ingest/sftpdrop-ingest

id "$SYSUSER" >/dev/null 2>&1 || useradd -r -M -d /nonexistent -s /usr/sbin/nologin "$SYSUSER"
usermod -p '*' "$SYSUSER"   # not "!": sshd without PAM refuses locked accounts
mkdir -p /run/sshd

# ---- work dir, cleanup -----------------------------------------------------
# The work dir goes below a directory marked "top of a hierarchy" (chattr +T)
# so that ext4 puts it in a block group of its own (the Orlov allocator)
# rather than next to its parent, where other programs' recently freed
# inodes would make every file creation slow: ext4 without a journal skips
# inodes freed in the last 60 s (6 min while their table block is dirty), and
# on this machine creating a 4 KiB file in /var/tmp itself took 780 us
# against 27 us in a fresh group. All three servers share the work dir.
TOP=${BENCH_DIR:-/var/tmp}/sftpdrop-bench.d
mkdir -p "$TOP"
chattr +T "$TOP" 2>/dev/null || true
W=$(mktemp -d "$TOP/run.XXXXXX")
chmod 755 "$TOP" "$W"
PIDS=()
cleanup() {
	local p
	exec 9>&- 2>/dev/null || true
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	sleep 0.3
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	for p in "${CGS[@]}"; do rmdir "$p" 2>/dev/null || true; done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then log "work dir kept: $W"
	else rm -rf "$W"; rmdir "$TOP" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Server CPU time: each server runs in its own cpuacct cgroup (v1) or cgroup
# (v2), which counts every descendant, also ones that exit unreaped; without
# cgroups: utime+stime+cutime+cstime of the listener (reaped children only).
CGROOT=
if [ -w /sys/fs/cgroup/cpuacct ] && [ -e /sys/fs/cgroup/cpuacct/cpuacct.usage ]; then
	CGROOT=/sys/fs/cgroup/cpuacct; CGKIND=v1
elif [ -e /sys/fs/cgroup/cgroup.controllers ] && [ -w /sys/fs/cgroup ]; then
	CGROOT=/sys/fs/cgroup; CGKIND=v2
fi
CGS=()
cg_exec() { # $1 = name; rest: command (exec'd in the cgroup, keeps the pid)
	local name=$1; shift
	if [ -n "$CGROOT" ]; then
		CG=$CGROOT/sftpdrop-bench.$$.$name
		exec bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG" "$@"
	fi
	exec "$@"
}
cg_make() { [ -z "$CGROOT" ] || { mkdir -p "$CGROOT/sftpdrop-bench.$$.$1"; CGS+=("$CGROOT/sftpdrop-bench.$$.$1"); }; }
cpu_ns() { # CPU nanoseconds of server $SRV so far
	local cg=${CGROOT:+$CGROOT/sftpdrop-bench.$$.$SRV}
	if [ -n "$cg" ] && [ -d "$cg" ]; then
		if [ "$CGKIND" = v1 ]; then cat "$cg/cpuacct.usage"
		else awk '$1 == "usage_usec" { print $2 * 1000 }' "$cg/cpu.stat"; fi
	else
		echo $(($(tree_ticks "$SRVPID") * 1000000000 / TICK))
	fi
}
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 20000))
		ss -Hltn "sport = :$p" | grep -q . || { echo $p; return; }
	done
}

ssh-keygen -q -t ed25519 -N '' -C bench -f "$W/key"
KEY=$W/key
TICK=$(getconf CLK_TCK)

# ---- test data -------------------------------------------------------------
mkdir -p "$W/data/small"
log "making test data"
head -c $((BIG_MIB << 20)) /dev/urandom >"$W/data/big"
head -c $((PAR_MIB << 20)) /dev/urandom >"$W/data/par"
head -c 1024 /dev/urandom >"$W/data/1k"
for ((i = 0; i < SMALL_FILES; i++)); do head -c 4096 /dev/urandom >"$W/data/small/f$i"; done

# ---- servers ---------------------------------------------------------------
# each start_* sets: PORT, LOGIN, SRVPID (the listener), UPDIR (where uploads land)
SD=$W/sd
setup_sd() {
	SD_PORT=$(free_port)
	"$ADMIN" init --dir "$SD" --listen 127.0.0.1:$SD_PORT >/dev/null
	cat >>"$SD/sftpdrop.conf" <<-EOC
	# bench: 100 idle sessions and 32 parallel logins from 127.0.0.1
	max_unauthenticated = 128
	max_unauthenticated_per_source = 128
	EOC
	local A="$ADMIN -c $SD/sftpdrop.conf"
	$A relation add $REL --name Bench >/dev/null
	$A user add $REL $BUSER --name Bench --email bench@example.org --batch >/dev/null
	$A key add $REL $BUSER <"$KEY.pub" >/dev/null
	"$INGEST" -c "$SD/sftpdrop.conf" -f 2>"$SD/ingest.log" &
	INGEST_PID=$!; PIDS+=($INGEST_PID)
}
start_sd() { # $1 = yes|no
	sed -i '/^sync_on_close/d' "$SD/sftpdrop.conf"
	echo "sync_on_close = $1" >>"$SD/sftpdrop.conf"
	cg_make "$SRV"
	(cg_exec "$SRV" "$DAEMON" -c "$SD/sftpdrop.conf" -f 2>>"$SD/daemon.log") &
	SRVPID=$!; PIDS+=($SRVPID)
	PORT=$SD_PORT; LOGIN=$REL.$BUSER; UPDIR=$SD/upload/$REL
}

setup_ssh() {
	mkdir -p "$W/ssh" "$W/ssh-up"
	chown $SYSUSER "$W/ssh-up"
	ssh-keygen -q -t ed25519 -N '' -f "$W/ssh/host_ed25519_key"
	cp "$KEY.pub" "$W/ssh/authorized_keys"; chmod 644 "$W/ssh/authorized_keys"
	SSH_PORT=$(free_port)
	cat >"$W/ssh/sshd_config" <<-EOC
	Port $SSH_PORT
	ListenAddress 127.0.0.1
	HostKey $W/ssh/host_ed25519_key
	PidFile $W/ssh/sshd.pid
	AuthorizedKeysFile $W/ssh/authorized_keys
	StrictModes no
	UsePAM no
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	AllowUsers $SYSUSER
	MaxStartups 200
	MaxSessions 10
	Subsystem sftp internal-sftp
	ForceCommand internal-sftp -d $W/ssh-up
	EOC
}
start_ssh() {
	cg_make ssh
	(cg_exec ssh "$SSHD" -f "$W/ssh/sshd_config" -D -e 2>>"$W/ssh/sshd.log") &
	SRVPID=$!; PIDS+=($SRVPID)
	PORT=$SSH_PORT; LOGIN=$SYSUSER; UPDIR=$W/ssh-up
}

setup_pf() {
	mkdir -p "$W/pf" "$W/pf-up"
	chown $SYSUSER "$W/pf-up"
	ssh-keygen -q -t rsa -b 3072 -m PEM -N '' -f "$W/pf/host_rsa_key"
	ssh-keygen -e -f "$KEY.pub" >"$W/pf/authorized_keys"
	PF_PORT=$(free_port)
	cat >"$W/pf/proftpd.conf" <<-EOC
	ModulePath /usr/lib/proftpd
	LoadModule mod_sftp.c
	ServerName "bench"
	ServerType standalone
	DefaultServer on
	DefaultAddress 127.0.0.1
	Port $PF_PORT
	UseIPv6 off
	User nobody
	Group nogroup
	PidFile $W/pf/proftpd.pid
	ScoreboardFile $W/pf/scoreboard
	SystemLog $W/pf/system.log
	WtmpLog off
	TransferLog none
	DelayTable none
	UseReverseDNS off
	MaxInstances 300
	RequireValidShell off
	AuthOrder mod_auth_unix.c
	<IfModule mod_auth_pam.c>
	  AuthPAM off
	</IfModule>
	DefaultRoot $W/pf-up
	AllowOverwrite on
	TimeoutIdle 900
	SFTPEngine on
	SFTPLog $W/pf/sftp.log
	SFTPHostKey $W/pf/host_rsa_key
	SFTPAuthMethods publickey
	SFTPAuthorizedUserKeys file:$W/pf/authorized_keys
	SFTPCompression off
	EOC
}
start_pf() {
	cg_make pf
	(cg_exec pf "$PROFTPD" -n -c "$W/pf/proftpd.conf" >>"$W/pf/stdout.log" 2>&1) &
	SRVPID=$!; PIDS+=($SRVPID)
	PORT=$PF_PORT; LOGIN=$SYSUSER; UPDIR=$W/pf-up
}

stop_srv() {
	kill "$SRVPID" 2>/dev/null || true
	local i
	for ((i = 0; i < 50; i++)); do kill -0 "$SRVPID" 2>/dev/null || break; sleep 0.1; done
	wait "$SRVPID" 2>/dev/null || true
}

wait_port() {
	local i
	for ((i = 0; i < 100; i++)); do
		ss -Hltn "sport = :$PORT" | grep -q . && return 0
		sleep 0.1
	done
	echo "server on port $PORT did not start" >&2; return 1
}

# ---- client ----------------------------------------------------------------
CIPHER=aes128-gcm@openssh.com
client() { # $1 = batch file (or -), rest: extra args
	local b=$1; shift
	sftp -q -b "$b" -i "$KEY" -P "$PORT" -c "$CIPHER" "$@" \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o BatchMode=yes -o IdentitiesOnly=yes -o LogLevel=ERROR \
		"$LOGIN@127.0.0.1" >/dev/null
}

# ---- measuring helpers -------------------------------------------------------
now() { echo "$EPOCHREALTIME"; }
# listener's own CPU plus that of its reaped descendants, in ticks
tree_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$1/stat"; }
self_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
descendants() {
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ parent[$1] = $2; pids[NR] = $1 }
		END { for (i in pids) { p = pids[i]; q = p
			while (q != "" && q != 0 && q != 1) { if (q == root) { print p; break } ; q = parent[q] } } }'
}
pss_kib() { # sum of Pss over the listener and all its descendants
	local p t=0 v
	for p in $(descendants "$1"); do
		v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || true)
		t=$((t + ${v:-0}))
	done
	echo $t
}
wait_children_gone() { # per-connection processes exited and reaped
	local i
	for ((i = 0; i < 100; i++)); do
		[ -z "$(ps -o pid= --ppid "$1")" ] && return 0
		sleep 0.05
	done
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
	print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
INGESTED=0
sent() { # $1 files uploaded to sftpdrop, for wait_ingest (other servers: nothing)
	[ "$SRV" = sd_on ] || [ "$SRV" = sd_off ] && INGESTED=$((INGESTED + $1))
	return 0
}
wait_ingest() { # sftpdrop only: until ingest has recorded everything sent so far
	[ "$SRV" = sd_on ] || [ "$SRV" = sd_off ] || return 0
	local i
	for ((i = 0; i < 1200; i++)); do
		[ "$(grep -c 'event=ingest_done' "$SD/ingest.log" || true)" -ge "$INGESTED" ] && return 0
		sleep 0.1
	done
	log "ingest did not catch up ($INGESTED expected)"
}
# Before each workload. Big files are deleted; small ones are moved aside
# (same file system, so no inode is freed) and deleted with the work dir at
# the end: ext4 without a journal (this machine's) will not reuse an inode
# freed less than 60 s ago, so every file created after deleting thousands
# steps over each of them (recently_deleted() in the kernel's inode
# allocator), and whichever server ran next would pay for the one before.
clean_up_dir() {
	wait_ingest
	local aside=$W/aside/$SRV.$RANDOM$RANDOM
	mkdir -p "$aside"
	find "$UPDIR" -mindepth 1 -maxdepth 1 -name 'b_*' -size +1M -delete
	find "$UPDIR" -mindepth 1 -maxdepth 1 -name 'b_*' -exec mv -t "$aside" {} +
	# spool entries are hard links to the uploads: no inode is freed
	[ -d "$SD/spool/$REL" ] && find "$SD/spool/$REL" -mindepth 1 -maxdepth 1 -type f -delete || true
	sync
}
declare -A R   # R[workload,server] = "v1 v2 v3"
add() { R[$1,$SRV]="${R[$1,$SRV]:-} $2"; }

# ---- workloads ---------------------------------------------------------------
w_big() { # $1 = cipher, $2 = run
	local name=b_big_$2 t0 t1 c0 c1 i0 i1
	echo "put $W/data/big $name" >"$W/batch"
	clean_up_dir
	c0=$(cpu_ns)
	[ "${SRV#sd_}" != "$SRV" ] && i0=$(self_ticks "$INGEST_PID")
	t0=$(now)
	if ! CIPHER=$1 client "$W/batch"; then
		log "$SRV: upload with $1 failed"; return 1
	fi
	t1=$(now)
	wait_children_gone "$SRVPID"
	c1=$(cpu_ns)
	sent 1
	local mbs; mbs=$(awk -v b=$((BIG_MIB << 20)) -v a="$t0" -v z="$t1" 'BEGIN { printf "%.1f", b / (z - a) / 1e6 }')
	if [ "$1" = aes128-gcm@openssh.com ]; then
		add big_aes "$mbs"
		add cpu "$(awk -v t=$((c1 - c0)) -v m="$BIG_MIB" 'BEGIN { printf "%.2f", t / 1e9 * 1024 / m }')"
		if [ "${SRV#sd_}" != "$SRV" ]; then
			wait_ingest; i1=$(self_ticks "$INGEST_PID")
			add icpu "$(awk -v t=$((i1 - i0)) -v k="$TICK" -v m="$BIG_MIB" 'BEGIN { printf "%.2f", t / k * 1024 / m }')"
		fi
	else
		add big_chacha "$mbs"
	fi
}
w_par() {
	local i t0 t1 pids=()
	clean_up_dir
	for ((i = 0; i < PAR; i++)); do echo "put $W/data/par b_par_$1_$i" >"$W/batch_par_$i"; done
	t0=$(now)
	for ((i = 0; i < PAR; i++)); do client "$W/batch_par_$i" & pids+=($!); done
	for i in "${pids[@]}"; do wait "$i"; done
	t1=$(now)
	sent "$PAR"
	add par "$(awk -v b=$((PAR * (PAR_MIB << 20))) -v a="$t0" -v z="$t1" 'BEGIN { printf "%.1f", b / (z - a) / 1e6 }')"
}
w_small() {
	local i t0 t1
	clean_up_dir
	for ((i = 0; i < SMALL_FILES; i++)); do echo "put $W/data/small/f$i b_small_$1_$i"; done >"$W/batch"
	t0=$(now)
	client "$W/batch"
	t1=$(now)
	sent "$SMALL_FILES"
	add small "$(awk -v n="$SMALL_FILES" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.0f", n / (z - a) }')"
}
w_sessions() {
	local i t0 t1
	clean_up_dir
	t0=$(now)
	for ((i = 0; i < SESSIONS; i++)); do
		echo "put $W/data/1k b_sess_$1_$i" | client -
	done
	t1=$(now)
	sent "$SESSIONS"
	add sess "$(awk -v n="$SESSIONS" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.1f", (z - a) * 1000 / n }')"
}
w_idle() {
	local i base held n pids=()
	clean_up_dir
	wait_children_gone "$SRVPID"
	sleep 0.3
	base=$(pss_kib "$SRVPID")
	rm -f "$W/hold"; mkfifo "$W/hold"
	exec 9<>"$W/hold"
	mkdir -p "$W/idle"; rm -f "$W/idle"/*
	for ((i = 0; i < IDLE; i++)); do
		{ echo pwd; exec cat "$W/hold" 9>&-; } 9>&- | sftp -b - -i "$KEY" -P "$PORT" -c "$CIPHER" \
			-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
			-o BatchMode=yes -o IdentitiesOnly=yes -o LogLevel=ERROR \
			"$LOGIN@127.0.0.1" >"$W/idle/$i" 2>&1 9>&- &
		pids+=($!)
		# start them in waves of 10 so that no server's login limits decide
		if (((i + 1) % 10 == 0)); then
			for ((n = 0; n < 100; n++)); do
				[ "$(grep -l 'Remote working directory' "$W/idle"/* 2>/dev/null | wc -l)" -ge $((i + 1)) ] && break
				sleep 0.1
			done
		fi
	done
	n=$(grep -l 'Remote working directory' "$W/idle"/* 2>/dev/null | wc -l || true)
	sleep 1
	held=$(pss_kib "$SRVPID")
	exec 9>&-
	for i in "${pids[@]}"; do wait "$i" 2>/dev/null || true; done
	[ "$n" = "$IDLE" ] || log "$SRV: only $n of $IDLE idle sessions logged in"
	add idle "$(awk -v a="$base" -v b="$held" -v n="$n" 'BEGIN { printf "%.0f", (b - a) / n }')"
}
w_latency() { # sftpdrop only: CLOSE (sftp_publish) -> spool (ingest_done), 50 files/s
	local i from_d from_i
	clean_up_dir
	from_d=$(wc -l <"$SD/daemon.log"); from_i=$(wc -l <"$SD/ingest.log")
	{
		for ((i = 0; i < LAT_FILES; i++)); do
			echo "put $W/data/1k b_lat_$1_$i"
			sleep 0.02
		done
	} | client -
	sent "$LAT_FILES"
	wait_ingest
	tail -n +$((from_d + 1)) "$SD/daemon.log" >"$W/lat_d"
	tail -n +$((from_i + 1)) "$SD/ingest.log" >"$W/lat_i"
	awk '
		function ms(ts,  t) { t = substr(ts, 12, 12); split(t, a, ":"); return (a[1] * 3600 + a[2] * 60 + a[3]) * 1000 }
		FNR == NR && /event=sftp_publish/ && match($0, /path="\/b_lat_[^"]*"/) {
			p = substr($0, RSTART + 7, RLENGTH - 8); pub[p] = ms($1); next }
		FNR != NR && /event=ingest_done/ && match($0, /name="b_lat_[^"]*"/) {
			p = substr($0, RSTART + 6, RLENGTH - 7); if (p in pub) print ms($1) - pub[p] }
	' "$W/lat_d" "$W/lat_i" | sort -g >"$W/lat"
	add lat50 "$(awk '{ v[NR] = $1 } END { print v[int((NR - 1) * 0.50) + 1] }' "$W/lat")"
	add lat99 "$(awk '{ v[NR] = $1 } END { print v[int((NR - 1) * 0.99) + 1] }' "$W/lat")"
	add latn "$(wc -l <"$W/lat")"
}

has() { case " $WORK " in *" $1 "*) return 0 ;; esac; return 1; }
run_server() {
	SRV=$1
	case $SRV in
	sd_on) start_sd yes ;;
	sd_off) start_sd no ;;
	ssh) start_ssh ;;
	pf) start_pf ;;
	esac
	wait_port
	sleep 0.2
	# one login to see that it works
	echo "pwd" | client - || { log "$SRV: login failed"; stop_srv; return 1; }
	local r
	for ((r = 0; r < RUNS; r++)); do
		if has big; then
			log "$SRV run $((r + 1))/$RUNS: $BIG_MIB MiB aes128-gcm"; w_big aes128-gcm@openssh.com "a$r"
			log "$SRV run $((r + 1))/$RUNS: $BIG_MIB MiB chacha20-poly1305"
			w_big chacha20-poly1305@openssh.com "c$r" || log "$SRV: chacha20-poly1305 failed"
		fi
		has par && { log "$SRV run $((r + 1))/$RUNS: $PAR x $PAR_MIB MiB parallel"; w_par "$r"; }
		has small && { log "$SRV run $((r + 1))/$RUNS: $SMALL_FILES x 4 KiB"; w_small "$r"; }
		has sess && { log "$SRV run $((r + 1))/$RUNS: $SESSIONS sessions"; w_sessions "$r"; }
		has idle && [ "$r" -lt "$IDLE_RUNS" ] && { log "$SRV run $((r + 1))/$RUNS: $IDLE idle sessions"; w_idle "$r"; }
		if has lat && { [ "$SRV" = sd_on ] || [ "$SRV" = sd_off ]; }; then
			log "$SRV run $((r + 1))/$RUNS: ingest latency"; w_latency "$r"
		fi
	done
	clean_up_dir
	stop_srv
}

log "work dir $W"
T_START=$(now)
for s in $ONLY; do
	case $s in
	sd_*) [ -e "$SD/sftpdrop.conf" ] || setup_sd ;;
	ssh) setup_ssh ;;
	pf) setup_pf ;;
	esac
	run_server "$s" || true
done
T_END=$(now)

# ---- table -------------------------------------------------------------------
med() { local v=${R[$1,$2]:-}; [ -n "$v" ] && printf '%s\n' $v | median || echo "-"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
rows=(
	"big_aes|1 GiB upload, aes128-gcm (MB/s, higher is better)"
	"big_chacha|1 GiB upload, chacha20-poly1305 (MB/s, higher is better)"
	"par|$PAR sessions x $PAR_MIB MiB in parallel (MB/s in all, higher is better)"
	"small|$SMALL_FILES files x 4 KiB in one session (files/s, higher is better)"
	"sess|$SESSIONS sequential sessions x 1 KiB (ms per session, lower is better)"
	"idle|PSS per idle authenticated session, $IDLE held (KiB, lower is better)"
	"cpu|server CPU-s per GiB, 1 GiB aes128-gcm upload (lower is better)"
	"icpu|sftpdrop-ingest CPU-s per GiB (hash + link), same upload"
	"lat50|ingest latency CLOSE->spool p50 at 50 files/s (ms, incl. settle)"
	"lat99|ingest latency CLOSE->spool p99 at 50 files/s (ms, incl. settle)"
)
{
	echo "| workload | sftpdrop (sync on) | sftpdrop (sync off) | OpenSSH | ProFTPD | sftpdrop/OpenSSH (on; off) | sftpdrop/ProFTPD (on; off) |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	for row in "${rows[@]}"; do
		k=${row%%|*}; label=${row#*|}
		on=$(med "$k" sd_on); off=$(med "$k" sd_off); o=$(med "$k" ssh); p=$(med "$k" pf)
		echo "| $label | $on | $off | $o | $p | $(ratio "$on" "$o"); $(ratio "$off" "$o") | $(ratio "$on" "$p"); $(ratio "$off" "$p") |"
	done
	echo
	echo "Medians of $RUNS runs; ingest latency: median over the runs of each run's percentile ($LAT_FILES files a run, settle ${SETTLE:-1000} ms included)."
	echo "Runs: $(for k in "${!R[@]}"; do echo "$k=[${R[$k]# }]"; done | sort | tr '\n' ' ')"
	echo
	echo "Whole run: $(awk -v a="$T_START" -v z="$T_END" 'BEGIN { printf "%.0f", z - a }') s; $(date -u +%Y-%m-%dT%H:%MZ); $(nproc) CPUs; work dir on $(df -T "$W" | awk 'NR == 2 { print $2 }')."
} >"$OUT"
cat "$OUT"
log "table written to $OUT"
