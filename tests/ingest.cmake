# Ingest watcher: unit tests of its pure parts, and the real program on a
# temporary tree (files dropped in like the daemon and WinSCP do).
sftpdrop_unit_test(test_ingest
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_ingest.c
  LIBS ingest_core)
# A batch through every step on a temporary tree and an in-memory store.
sftpdrop_unit_test(test_ingest_batch
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_ingest_batch.c
  LIBS ingest_core)

add_test(NAME ingest_watch
  COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_ingest.py)
set_tests_properties(ingest_watch PROPERTIES
  LABELS integration
  TIMEOUT 180
  ENVIRONMENT "SFTPDROP_INGEST=$<TARGET_FILE:sftpdrop-ingest>")

# An upload's whole life with the real daemon, watcher and clients: fault
# injection (kill -9, the test-only fault switch), receipts, hooks,
# retention. They need the test clock (and with it the fault switch).
if(TEST_CLOCK)
  foreach(t ingest_faults ingest_life)
    add_test(NAME it_${t}
      COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_${t}.py)
    set_tests_properties(it_${t} PROPERTIES
      ENVIRONMENT "SFTPDROP_ADMIN=$<TARGET_FILE:sftpdrop-admin>;SFTPDROP_DAEMON=$<TARGET_FILE:sftpdropd>;SFTPDROP_INGEST=$<TARGET_FILE:sftpdrop-ingest>"
      LABELS integration
      TIMEOUT 600)
  endforeach()
endif()

# The store's side of an upload's life (claim, record + audit, hooks, work
# lists), on an in-memory database.
find_package(Threads REQUIRED)
sftpdrop_unit_test(test_store_uploads SOURCES unit/test_store_uploads.c LIBS store Threads::Threads)
