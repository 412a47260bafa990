# ensemble_proto_library(target PROTOS a.proto b.proto ...)
# Generates message code (.pb.*) and service code (.grpc.pb.*) once, into one library.
function(ensemble_proto_library target)
  cmake_parse_arguments(ARG "" "" "PROTOS" ${ARGN})
  add_library(${target} STATIC ${ARG_PROTOS})
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf gRPC::grpc++)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/gen)
  file(MAKE_DIRECTORY ${out})
  target_include_directories(${target} PUBLIC ${out})
  protobuf_generate(TARGET ${target} LANGUAGE cpp
    IMPORT_DIRS ${CMAKE_CURRENT_SOURCE_DIR} PROTOC_OUT_DIR ${out})
  protobuf_generate(TARGET ${target} LANGUAGE grpc
    GENERATE_EXTENSIONS .grpc.pb.h .grpc.pb.cc
    PLUGIN protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>
    IMPORT_DIRS ${CMAKE_CURRENT_SOURCE_DIR} PROTOC_OUT_DIR ${out})
endfunction()
