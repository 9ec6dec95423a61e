# The SFTP engine: codec and server unit tests, and the decoder fuzz corpus.
find_package(Threads REQUIRED)
sftpdrop_unit_test(test_sftp_codec SOURCES unit/test_sftp_codec.c LIBS srv_sftp)
sftpdrop_unit_test(test_sftp_server SOURCES unit/test_sftp_server.c
  LIBS srv_sftp Threads::Threads)

# The fuzz target's corpus replayed by a plain driver, so gcc builds run it too.
add_executable(fuzz_sftp_decode_replay fuzz/fuzz_sftp_decode.c fuzz/replay.c)
target_link_libraries(fuzz_sftp_decode_replay PRIVATE srv_sftp sftpdrop_flags)
add_test(NAME fuzz_sftp_decode_replay
  COMMAND fuzz_sftp_decode_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/sftp_decode)
set_tests_properties(fuzz_sftp_decode_replay PROPERTIES LABELS fuzz TIMEOUT 120)

if(FUZZING)
  # Codec compiled into the fuzzer so libFuzzer's coverage reaches it.
  add_executable(fuzz_sftp_decode fuzz/fuzz_sftp_decode.c
    ${PROJECT_SOURCE_DIR}/server/sftp_codec.c ${PROJECT_SOURCE_DIR}/server/sftp_jail.c)
  target_include_directories(fuzz_sftp_decode PRIVATE ${PROJECT_SOURCE_DIR}/server)
  target_compile_options(fuzz_sftp_decode PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_sftp_decode PRIVATE -fsanitize=fuzzer)
  target_link_libraries(fuzz_sftp_decode PRIVATE common sftpdrop_flags)
endif()
