# sftpdrop-admin end to end: the real binary on a fresh installation in a temp
# directory per test (init, relations, users, uploads, errors).
add_test(NAME admin_cli
  COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_admin.py)
set_tests_properties(admin_cli PROPERTIES
  ENVIRONMENT "SFTPDROP_ADMIN=$<TARGET_FILE:sftpdrop-admin>"
  LABELS integration
  TIMEOUT 300)
