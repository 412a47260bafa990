# Every dependency is a Debian 12 package (see tools/deps.sh for the list).
# Protobuf 3.21 ships no CMake config on Debian: module mode is required.
find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(leveldb CONFIG REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(GTest CONFIG REQUIRED)
find_package(ZLIB REQUIRED)
