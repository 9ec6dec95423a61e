# Integration tests: the real daemon and ingest on 127.0.0.1, driven by real
# clients. They inject time through the test clock, so they need TEST_CLOCK.
if(NOT TEST_CLOCK)
  message(STATUS "integration tests need -DTEST_CLOCK=ON (test-only clock): not registered")
  return()
endif()
set(SFTPDROP_IT_ENV
  SFTPDROP_ADMIN=$<TARGET_FILE:sftpdrop-admin>
  SFTPDROP_DAEMON=$<TARGET_FILE:sftpdropd>
  SFTPDROP_INGEST=$<TARGET_FILE:sftpdrop-ingest>)
foreach(t login openssh jail lifecycle lifecycle_openssh batch disk_full)
  add_test(NAME it_${t}
    COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_${t}.py)
  set_tests_properties(it_${t} PROPERTIES ENVIRONMENT "${SFTPDROP_IT_ENV}"
    LABELS integration TIMEOUT 600)
endforeach()
# The interoperability suite: one test per client (tests/integration/interop.py).
foreach(t interop_openssh interop_paramiko interop_asyncssh interop_curl interop_lftp
    interop_rclone winscp_pattern)
  add_test(NAME it_${t}
    COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_${t}.py)
  set_tests_properties(it_${t} PROPERTIES ENVIRONMENT "${SFTPDROP_IT_ENV}"
    LABELS "integration;interop" TIMEOUT 600)
endforeach()
# More than 4 GiB through OpenSSH sftp (about a minute; runs in CI too).
add_test(NAME it_interop_bigfile
  COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_interop_bigfile.py)
set_tests_properties(it_interop_bigfile PROPERTIES ENVIRONMENT "${SFTPDROP_IT_ENV}"
  LABELS "integration;slow" TIMEOUT 900)
