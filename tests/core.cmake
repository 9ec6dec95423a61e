# Unit tests of the core libraries.
sftpdrop_unit_test(test_policy SOURCES unit/test_policy.c LIBS policy)
sftpdrop_unit_test(test_conf SOURCES unit/test_conf.c LIBS conf)
sftpdrop_unit_test(test_store SOURCES unit/test_store.c LIBS store)
sftpdrop_unit_test(test_monproto SOURCES unit/test_monproto.c LIBS srv_mon)
sftpdrop_unit_test(test_auth SOURCES unit/test_auth.c LIBS srv_mon PkgConfig::ARGON2)
sftpdrop_unit_test(test_history SOURCES unit/test_history.c LIBS srv_login)
sftpdrop_unit_test(test_batch_policy SOURCES unit/test_batch_policy.c LIBS policy)
sftpdrop_unit_test(test_store_keys SOURCES unit/test_store_keys.c LIBS store)

# Every text of the login dialogue and the e-mails is translated.
find_program(XGETTEXT xgettext REQUIRED)
add_test(NAME i18n_catalog_complete
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/check_catalog.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(i18n_catalog_complete PROPERTIES LABELS unit)
