#!/bin/sh
# SSH_ASKPASS helper for the OpenSSH tests: answers each prompt of the login
# dialogue (English or Dutch, docs/login.md) from the environment; the
# verification code comes from oathtool at the instance's test-clock time.
# SD_NEW_PASSWORDS holds the answers to successive "New password" prompts
# (space-separated); the repeat prompt gets the last one given. State lives in
# $SD_ASKPASS_STATE (a file).
next_new() {
	n=$(cat "$SD_ASKPASS_STATE" 2>/dev/null || echo 0)
	n=$((n + 1))
	echo "$n" > "$SD_ASKPASS_STATE"
	echo "$SD_NEW_PASSWORDS" | tr ' ' '\n' | sed -n "${n}p"
}
last_new() {
	n=$(cat "$SD_ASKPASS_STATE" 2>/dev/null || echo 1)
	echo "$SD_NEW_PASSWORDS" | tr ' ' '\n' | sed -n "${n}p"
}
case "$1" in
*"Verification code"*|*"Verificatiecode"*)
	exec oathtool --totp -b -N "@$(cat "$SFTPDROP_TEST_CLOCK_FILE")" "$SD_TOTP_SECRET" ;;
*"Activation code"*|*"Activatiecode"*)
	printf '%s\n' "$SD_ACTIVATION" ;;
*"Repeat new password"*|*"Herhaal nieuw wachtwoord"*)
	last_new ;;
*"New password"*|*"Nieuw wachtwoord"*)
	next_new ;;
*assword*)
	printf '%s\n' "$SD_PASSWORD" ;;
*)
	echo "askpass: unexpected prompt: $1" >&2
	exit 1 ;;
esac
