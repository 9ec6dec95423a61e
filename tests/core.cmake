# Unit tests of the core libraries.
sftpdrop_unit_test(test_policy SOURCES unit/test_policy.c LIBS policy)
sftpdrop_unit_test(test_conf SOURCES unit/test_conf.c LIBS conf)
sftpdrop_unit_test(test_store SOURCES unit/test_store.c LIBS store)
sftpdrop_unit_test(test_monproto SOURCES unit/test_monproto.c LIBS srv_mon)
sftpdrop_unit_test(test_auth SOURCES unit/test_auth.c LIBS srv_mon PkgConfig::ARGON2)
