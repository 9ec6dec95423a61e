#!/bin/sh
# SSH_ASKPASS helper for the OpenSSH tests: answers the password prompt with
# $SD_PASSWORD and the verification-code prompt with a TOTP code from
# oathtool at the instance's (test-clock) time.
case "$1" in
*"Verification code"*)
	exec oathtool --totp -b -N "@$(cat "$SFTPDROP_TEST_CLOCK_FILE")" "$SD_TOTP_SECRET" ;;
*assword*)
	printf '%s\n' "$SD_PASSWORD" ;;
*)
	echo "askpass: unexpected prompt: $1" >&2
	exit 1 ;;
esac
