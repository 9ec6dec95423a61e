#!/bin/sh
# Every user-facing text in the sources has a Dutch translation: extract the
# texts with xgettext and compare them with common/po/nl.po.
set -eu
top=$1
pot=$(mktemp)
trap 'rm -f "$pot"' EXIT
cd "$top"
xgettext --from-code=UTF-8 -k_ -kN_ -kdngettext:2,3 -o "$pot" server/*.c admin/*.c ingest/*.c
sed -i "s/charset=CHARSET/charset=UTF-8/" "$pot"
msgcmp common/po/nl.po "$pot"
msgfmt --check -o /dev/null common/po/nl.po
echo "catalog complete: $(grep -c '^msgid "' "$pot") texts"
