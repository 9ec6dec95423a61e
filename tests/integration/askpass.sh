#!/bin/sh
# SSH_ASKPASS helper for the OpenSSH tests: answers each prompt of the login
# dialogue (English or Dutch, docs/login.md) from the environment; the
# verification code comes from oathtool at the instance's test-clock time.
case "$1" in
*"Verification code"*|*"Verificatiecode"*)
	exec oathtool --totp -b -N "@$(cat "$SFTPDROP_TEST_CLOCK_FILE")" "$SD_TOTP_SECRET" ;;
*"Activation code"*|*"Activatiecode"*)
	printf '%s\n' "$SD_ACTIVATION" ;;
*"New password"*|*"Nieuw wachtwoord"*|*"Repeat new password"*|*"Herhaal nieuw wachtwoord"*)
	printf '%s\n' "$SD_NEW_PASSWORD" ;;
*assword*)
	printf '%s\n' "$SD_PASSWORD" ;;
*)
	echo "askpass: unexpected prompt: $1" >&2
	exit 1 ;;
esac
