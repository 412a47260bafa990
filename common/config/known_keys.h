#pragma once

// ZooKeeper settings that Ensemble accepts in zoo.cfg and records without acting on
// them, so an existing ZooKeeper 3.8 file loads unchanged. Keys that Ensemble does act
// on (tickTime, server.N, ...) are not listed here: they live in zoo_cfg.cc's table.
// docs/configuration.md explains both lists.

#include <string_view>

#include "absl/types/span.h"

namespace ensemble::config {

// Exact keys, in zoo.cfg form (without the `zookeeper.` system-property prefix that
// QuorumPeerConfig adds to keys it does not parse itself). Sorted.
// Sources: QuorumPeerConfig.parseProperties of ZooKeeper 3.8.0, the `zookeeper.*`
// system properties the 3.8.0 server jar reads, and zookeeperAdmin.md.
absl::Span<const std::string_view> RecordedZooKeeperKeys();

// Key families accepted whole: `zookeeper.` (any system property), `ssl.` (client and
// quorum TLS), `authProvider.` (SASL/X.509 providers), `metricsProvider.`.
absl::Span<const std::string_view> RecordedKeyPrefixes();

// True when `key` is in RecordedZooKeeperKeys().
bool IsRecordedZooKeeperKey(std::string_view key);

// True when `key` starts with one of RecordedKeyPrefixes().
bool HasRecordedPrefix(std::string_view key);

}  // namespace ensemble::config
