#include "common/config/zoo_cfg.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/config/known_keys.h"
#include "common/config/text_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ensemble::config {
namespace {

using ::ensemble::config::internal::Cat;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::string TestdataPath(std::string_view name) { return Cat(ENSEMBLE_CONFIG_TESTDATA, "/", name); }

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteText(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

// A fresh directory under the test's temp dir, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "ensemble_config_XXXXXX";
    char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(std::string_view name) const { return Cat(path_, "/", name); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Config MustParse(std::string_view text) {
  absl::StatusOr<Config> config = ParseZooCfg(text, "zoo.cfg");
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *std::move(config) : Config{};
}

// The message of the InvalidArgument error that parsing `text` must produce.
std::string ParseError(std::string_view text) {
  absl::StatusOr<Config> config = ParseZooCfg(text, "zoo.cfg");
  if (config.ok()) return "(parsed without error)";
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << config.status();
  return std::string(config.status().message());
}

constexpr std::string_view kMinimal = "dataDir=/d\n";

// ---------------------------------------------------------------------------------
// Debian's sample file.

void ExpectDebianSample(const Config& c) {
  EXPECT_EQ(c.tick_time_ms, 2000);
  EXPECT_EQ(c.TickMs(), 2000);
  EXPECT_EQ(c.init_limit, 10);
  EXPECT_EQ(c.sync_limit, 5);
  EXPECT_EQ(c.data_dir, "/tmp/zookeeper");
  EXPECT_EQ(c.DataLogDir(), "/tmp/zookeeper");
  EXPECT_EQ(c.client_port, 2181);
  // Everything the sample leaves commented out keeps ZooKeeper's default.
  EXPECT_EQ(c.max_client_cnxns, 60);
  EXPECT_EQ(c.snap_retain_count, 3);
  EXPECT_EQ(c.purge_interval_hours, 0);
  EXPECT_EQ(c.MinSessionTimeoutMs(), 4000);
  EXPECT_EQ(c.MaxSessionTimeoutMs(), 40000);
  EXPECT_EQ(c.four_letter_words, std::vector<std::string>{"srvr"});
  EXPECT_EQ(c.jute_max_buffer, 1048575);
  EXPECT_EQ(c.JuteMaxBufferExtraSize(), 1048575);
  EXPECT_EQ(c.global_outstanding_limit, 1000);
  EXPECT_EQ(c.snap_count, 100000);
  EXPECT_TRUE(c.servers.empty());
  EXPECT_FALSE(c.IsDistributed());
  EXPECT_EQ(c.my_id, kNoServerId);
  EXPECT_EQ(c.properties.size(), 5u);
  EXPECT_THAT(c.warnings, IsEmpty());
}

TEST(ZooCfgDebianSample, TestdataCopyParsesWithZooKeeperDefaults) {
  absl::StatusOr<Config> c =
      ParseZooCfg(ReadText(TestdataPath("debian_zoo.cfg")), "debian_zoo.cfg");
  ASSERT_TRUE(c.ok()) << c.status();
  ExpectDebianSample(*c);
  EXPECT_EQ(c->properties.at("tickTime").origin, "debian_zoo.cfg:2");
  EXPECT_EQ(c->properties.at("clientPort").origin, "debian_zoo.cfg:14");
}

TEST(ZooCfgDebianSample, InstalledFileParsesLikeTheCopy) {
  const std::string installed = "/etc/zookeeper/conf_example/zoo.cfg";
  if (!std::filesystem::exists(installed)) GTEST_SKIP() << installed << " is not installed";
  absl::StatusOr<Config> c = ParseZooCfg(ReadText(installed), installed);
  ASSERT_TRUE(c.ok()) << c.status();
  ExpectDebianSample(*c);
}

// ---------------------------------------------------------------------------------
// Three voters and an observer.

TEST(ZooCfgEnsemble, ThreeServersAndAnObserver) {
  absl::StatusOr<Config> loaded = LoadZooCfg(TestdataPath("three_plus_observer.cfg"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Config& c = *loaded;

  ASSERT_EQ(c.servers.size(), 4u);
  EXPECT_THAT(c.QuorumServers(), ElementsAre(Field(&ServerSpec::sid, 1), Field(&ServerSpec::sid, 2),
                                             Field(&ServerSpec::sid, 3)));
  EXPECT_THAT(c.Observers(), ElementsAre(Field(&ServerSpec::sid, 4)));
  EXPECT_TRUE(c.IsObserver(4));
  EXPECT_FALSE(c.IsObserver(1));
  EXPECT_FALSE(c.IsObserver(99));
  EXPECT_EQ(c.QuorumSize(), 2);
  EXPECT_TRUE(c.IsDistributed());

  const ServerSpec& s1 = c.servers[0];
  EXPECT_EQ(s1.host, "zk1.example.com");
  EXPECT_EQ(s1.quorum_port, 2888);
  EXPECT_EQ(s1.election_port, 3888);
  EXPECT_EQ(s1.role, PeerRole::kParticipant);
  EXPECT_EQ(s1.client_address, "0.0.0.0");  // ZooKeeper's default for a bare port
  EXPECT_EQ(s1.client_port, 2181);
  EXPECT_EQ(c.servers[1].client_address, "10.0.0.2");
  EXPECT_EQ(c.servers[2].host, "fd00::3");
  EXPECT_EQ(c.servers[2].client_port, 0);
  EXPECT_EQ(c.servers[3].role, PeerRole::kObserver);

  EXPECT_EQ(c.my_id, 2);
  ASSERT_NE(c.Self(), nullptr);
  EXPECT_EQ(c.Self()->host, "zk2.example.com");
  EXPECT_EQ(c.peer_type, PeerRole::kParticipant);

  EXPECT_EQ(c.DataLogDir(), "/var/lib/ensemble/log");
  EXPECT_EQ(c.max_client_cnxns, 100);
  EXPECT_EQ(c.snap_retain_count, 5);
  EXPECT_EQ(c.purge_interval_hours, 24);
  EXPECT_THAT(c.four_letter_words, ElementsAre("stat", "ruok", "conf", "mntr", "isro"));
  EXPECT_TRUE(c.reconfig_enabled);
  EXPECT_FALSE(c.admin_enable_server);
  EXPECT_EQ(c.storage_grpc_address, "127.0.0.1:7001");
  EXPECT_EQ(c.replication_grpc_address, "unix:/run/ensemble/replication.sock");
  EXPECT_EQ(c.election_grpc_address, "127.0.0.1:7003");
  EXPECT_EQ(c.gateway_grpc_address, "0.0.0.0:7004");
  EXPECT_EQ(c.storage_metrics_address, "0.0.0.0:9101");
  EXPECT_EQ(c.gateway_metrics_address, "0.0.0.0:9104");
  EXPECT_EQ(c.election_metrics_address, "");
  EXPECT_EQ(c.log_level, "debug");
  // ensemble.superDigest is the same setting as ZooKeeper's superDigest.
  EXPECT_EQ(c.super_digest, "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
  EXPECT_TRUE(c.properties.contains("DigestAuthenticationProvider.superDigest"));
  EXPECT_EQ(c.session_secret, "change-me-please");
  // Recorded ZooKeeper keys.
  EXPECT_EQ(c.properties.at("metricsProvider.httpPort").value, "7000");
  EXPECT_EQ(c.properties.at("server.4").origin,
            Cat(TestdataPath("three_plus_observer.cfg"), ":19"));
  EXPECT_THAT(c.warnings, IsEmpty());
}

TEST(ZooCfgEnsemble, MajorityQuorumCountsOnlyVoters) {
  Config c = MustParse(
      "dataDir=/d\n"
      "server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\nserver.4=d:1:2:observer\n");
  EXPECT_TRUE(c.ContainsQuorum({1, 2}));
  EXPECT_TRUE(c.ContainsQuorum({1, 2, 3}));
  EXPECT_FALSE(c.ContainsQuorum({1}));
  EXPECT_FALSE(c.ContainsQuorum({1, 4}));   // an observer's ack does not count
  EXPECT_FALSE(c.ContainsQuorum({1, 99}));  // nor does a stranger's
  EXPECT_FALSE(c.ContainsQuorum({}));
}

TEST(ZooCfgEnsemble, HierarchicalQuorumFollowsQuorumHierarchical) {
  // zookeeperHierarchicalQuorums.md: three groups of three; a quorum is a majority of
  // the groups, each by a majority of its weight.
  Config c = MustParse(
      "dataDir=/d\n"
      "server.1=h1:1:2\nserver.2=h2:1:2\nserver.3=h3:1:2\n"
      "server.4=h4:1:2\nserver.5=h5:1:2\nserver.6=h6:1:2\n"
      "server.7=h7:1:2\nserver.8=h8:1:2\nserver.9=h9:1:2\n"
      "group.1=1:2:3\ngroup.2=4:5:6\ngroup.3=7:8:9\n"
      "weight.1=1\nweight.2=1\nweight.3=1\nweight.4=1\nweight.5=1\nweight.6=1\n"
      "weight.7=0\nweight.8=0\nweight.9=0\n");
  EXPECT_TRUE(c.IsHierarchical());
  EXPECT_EQ(c.Weight(4), 1);
  EXPECT_EQ(c.Weight(7), 0);
  EXPECT_EQ(c.Weight(42), 0);
  // Group 3 weighs nothing, so two groups count, and both need a majority.
  EXPECT_TRUE(c.ContainsQuorum({1, 2, 4, 5}));
  EXPECT_FALSE(c.ContainsQuorum({1, 2, 3}));  // one group of two
  EXPECT_FALSE(c.ContainsQuorum({1, 2, 4, 7, 8, 9}));
}

TEST(ZooCfgEnsemble, GroupedParticipantDefaultsToWeightOne) {
  Config c = MustParse(
      "dataDir=/d\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n"
      "group.1=1:2\ngroup.2=3\n");
  EXPECT_EQ(c.Weight(1), 1);
  EXPECT_TRUE(c.ContainsQuorum({1, 2, 3}));
  EXPECT_FALSE(c.ContainsQuorum({1, 2}));  // one of two groups is not a majority
}

TEST(ZooCfgEnsemble, StandaloneIsOneVoterOfOne) {
  Config c = MustParse(kMinimal);
  EXPECT_EQ(c.QuorumSize(), 1);
  EXPECT_THAT(c.QuorumServers(), IsEmpty());
  EXPECT_EQ(c.Self(), nullptr);
}

TEST(ZooCfgEnsemble, PeerTypeDisagreeingWithServerLineWarnsAndUsesTheLine) {
  Config c = MustParse(
      "dataDir=/d\npeerType=observer\nensemble.myid=1\n"
      "server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n");
  EXPECT_EQ(c.peer_type, PeerRole::kParticipant);
  EXPECT_THAT(c.warnings,
              ElementsAre(HasSubstr("zoo.cfg:2: peerType: is observer but server.1 says "
                                    "participant; using participant")));
}

TEST(ZooCfgEnsemble, EvenNumberOfVotersWarns) {
  Config c = MustParse(
      "dataDir=/d\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n"
      "server.4=d:1:2\n");
  EXPECT_THAT(c.warnings, ElementsAre(HasSubstr("consider an odd number of servers")));
}

// ---------------------------------------------------------------------------------
// Syntax.

TEST(ZooCfgSyntax, AcceptsPropertiesSpellings) {
  Config c = MustParse(
      "! comment\n"
      "tickTime 3000\n"
      "initLimit: 7\n"
      "syncLimit =  3   \n"
      "dataDir=/data\n"
      "server.1=a:2888:\\\n"
      "   3888\n"
      "server.2=b:2888:3888\r\n"
      "server.3=c:2888:3888\n");
  EXPECT_EQ(c.tick_time_ms, 3000);
  EXPECT_EQ(c.init_limit, 7);
  EXPECT_EQ(c.sync_limit, 3);
  ASSERT_EQ(c.servers.size(), 3u);
  EXPECT_EQ(c.servers[0].election_port, 3888);
  EXPECT_EQ(c.properties.at("server.2").origin, "zoo.cfg:8");
}

TEST(ZooCfgSyntax, ServerLinesAreSortedBySid) {
  Config c = MustParse("dataDir=/d\nserver.3=c:1:2\nserver.1=a:1:2\nserver.2=b:1:2\n");
  EXPECT_THAT(c.servers, ElementsAre(Field(&ServerSpec::sid, 1), Field(&ServerSpec::sid, 2),
                                     Field(&ServerSpec::sid, 3)));
}

TEST(ZooCfgSyntax, ZooKeeperPrefixedSpellingSetsTheTypedKey) {
  Config c =
      MustParse("dataDir=/d\nzookeeper.snapCount=500\nzookeeper.observer.syncEnabled=false\n");
  EXPECT_EQ(c.snap_count, 500);
  EXPECT_FALSE(c.sync_enabled);
  EXPECT_TRUE(c.properties.contains("snapCount"));
  EXPECT_TRUE(c.properties.contains("syncEnabled"));
}

TEST(ZooCfgSyntax, RecordsZooKeeperKeysItDoesNotActOn) {
  Config c = MustParse(
      "dataDir=/d\n"
      "ssl.keyStore.location=/etc/zk/keystore.jks\n"
      "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n"
      "metricsProvider.exportJvmInfo=true\n"
      "localSessionsEnabled=true\n"
      "zookeeper.commitProcessor.numWorkerThreads=4\n"
      "admin.serverPort=9090\n");
  EXPECT_EQ(c.properties.at("ssl.keyStore.location").value, "/etc/zk/keystore.jks");
  EXPECT_EQ(c.properties.at("authProvider.1").origin, "zoo.cfg:3");
  EXPECT_TRUE(c.properties.contains("localSessionsEnabled"));
  EXPECT_EQ(c.admin_server_port, 9090);
  EXPECT_THAT(c.warnings, IsEmpty());
}

TEST(ZooCfgSyntax, UnknownZooKeeperPropertyIsRecordedWithAWarning) {
  Config c = MustParse("dataDir=/d\nzookeeper.snapCnt=5\n");
  EXPECT_EQ(c.properties.at("zookeeper.snapCnt").value, "5");
  EXPECT_THAT(c.warnings, ElementsAre(HasSubstr("zoo.cfg:2: zookeeper.snapCnt: not a ZooKeeper "
                                                "3.8 server property")));
}

TEST(ZooCfgSyntax, SnapRetainCountBelowThreeIsClampedWithAWarning) {
  Config c = MustParse("dataDir=/d\n\nautopurge.snapRetainCount=1\n");
  EXPECT_EQ(c.snap_retain_count, 3);
  EXPECT_THAT(c.warnings, ElementsAre("zoo.cfg:3: autopurge.snapRetainCount: 1 is below the "
                                      "minimum of 3; using 3"));
}

TEST(ZooCfgSyntax, JuteExtraSizeDefaultsToMaxBufferAndHasAFloor) {
  EXPECT_EQ(MustParse("dataDir=/d\njute.maxbuffer=4194304\n").JuteMaxBufferExtraSize(), 4194304);
  Config c = MustParse("dataDir=/d\njute.maxbuffer.extrasize=10\n");
  EXPECT_EQ(c.JuteMaxBufferExtraSize(), 1024);
  EXPECT_THAT(c.warnings, ElementsAre(HasSubstr("below the minimum of 1024")));
}

TEST(ZooCfgSyntax, FourLetterWordWhitelist) {
  Config by_default = MustParse(kMinimal);
  EXPECT_TRUE(by_default.FourLetterWordEnabled("srvr"));
  EXPECT_FALSE(by_default.FourLetterWordEnabled("ruok"));

  Config listed = MustParse("dataDir=/d\n4lw.commands.whitelist=stat, ruok\n");
  EXPECT_TRUE(listed.FourLetterWordEnabled("ruok"));
  EXPECT_TRUE(listed.FourLetterWordEnabled("srvr"));  // always on, as in ZooKeeper
  EXPECT_FALSE(listed.FourLetterWordEnabled("wchp"));

  Config all = MustParse("dataDir=/d\n4lw.commands.whitelist=*\n");
  EXPECT_TRUE(all.FourLetterWordEnabled("wchp"));
  EXPECT_FALSE(all.FourLetterWordEnabled("xyzw"));
}

TEST(ZooCfgSyntax, DerivedDefaultsFollowTickTime) {
  Config c = MustParse("dataDir=/d\ntickTime=100\ninitLimit=4\n");
  EXPECT_EQ(c.MinSessionTimeoutMs(), 200);
  EXPECT_EQ(c.MaxSessionTimeoutMs(), 2000);
  EXPECT_EQ(c.ConnectToLearnerMasterLimit(), 4);
}

// ---------------------------------------------------------------------------------
// Errors name the source, the line and the key.

TEST(ZooCfgErrors, UnknownKeyNamesLineAndKey) {
  EXPECT_THAT(ParseError("dataDir=/d\n# comment\nmaxClientConns=5\n"),
              HasSubstr("zoo.cfg:3: maxClientConns: unknown key"));
}

TEST(ZooCfgErrors, UnknownKeyWithWrongCaseSuggestsTheKey) {
  EXPECT_THAT(
      ParseError("dataDir=/d\nticktime=5\n"),
      AllOf(HasSubstr("zoo.cfg:2: ticktime: unknown key"), HasSubstr("did you mean 'tickTime'?")));
}

TEST(ZooCfgErrors, NonNumberNamesLineAndKey) {
  EXPECT_EQ(ParseError("dataDir=/d\ntickTime=fast\n"),
            "zoo.cfg:2: tickTime: expected an integer, got 'fast'");
}

TEST(ZooCfgErrors, NegativePortNamesLineAndKey) {
  EXPECT_EQ(ParseError("dataDir=/d\n\n\nclientPort=-1\n"),
            "zoo.cfg:4: clientPort: expected a port number between 0 and 65535, got '-1'");
}

TEST(ZooCfgErrors, BadServerLineNamesLineAndKey) {
  EXPECT_THAT(ParseError("dataDir=/d\nserver.1=a:1:2\nserver.3=zk3:2888\n"),
              HasSubstr("zoo.cfg:3: server.3: expected host:quorumPort:electionPort"
                        "[:participant|:observer][;[clientAddress:]clientPort], got 'zk3:2888'"));
}

TEST(ZooCfgErrors, DuplicateServerIdNamesBothLines) {
  EXPECT_EQ(ParseError("dataDir=/d\nserver.1=a:1:2\nserver.2=b:1:2\nserver.01=c:1:2\n"),
            "zoo.cfg:4: server.01: duplicate server id 1 (first defined at zoo.cfg:2)");
}

TEST(ZooCfgErrors, MinSessionTimeoutAboveMaxNamesTheMinLine) {
  EXPECT_EQ(ParseError("dataDir=/d\nmaxSessionTimeout=10000\nminSessionTimeout=20000\n"),
            "zoo.cfg:3: minSessionTimeout: minSessionTimeout (20000 ms) must not be larger than "
            "maxSessionTimeout (10000 ms)");
}

TEST(ZooCfgErrors, MaxSessionTimeoutBelowDerivedMinNamesTheMaxLine) {
  EXPECT_THAT(ParseError("dataDir=/d\nmaxSessionTimeout=1000\n"),
              HasSubstr("zoo.cfg:2: maxSessionTimeout: minSessionTimeout (4000 ms)"));
}

TEST(ZooCfgErrors, KeyGivenTwiceNamesBothLines) {
  EXPECT_EQ(ParseError("dataDir=/d\ntickTime=1\ntickTime=2\n"),
            "zoo.cfg:3: tickTime: set twice (first at zoo.cfg:2)");
}

TEST(ZooCfgErrors, AliasGivenTwiceIsTheSameKey) {
  EXPECT_THAT(ParseError("dataDir=/d\nsnapCount=10\nzookeeper.snapCount=20\n"),
              HasSubstr("zoo.cfg:3: zookeeper.snapCount: set twice (first at zoo.cfg:2)"));
}

TEST(ZooCfgErrors, MissingDataDirNamesTheSource) {
  EXPECT_EQ(ParseError("tickTime=2000\n"),
            "zoo.cfg: dataDir: is not set (required, as in ZooKeeper)");
}

TEST(ZooCfgErrors, SecretIsNotEchoed) {
  const std::string message = ParseError("dataDir=/d\nensemble.superDigest=hunter2\n");
  EXPECT_THAT(message, HasSubstr("zoo.cfg:2: ensemble.superDigest: expected user:base64digest"));
  EXPECT_THAT(message, Not(HasSubstr("hunter2")));
}

TEST(ZooCfgErrors, EveryMalformedValueNamesItsLine) {
  struct Case {
    std::string_view line;     // placed on line 2, after dataDir
    std::string_view message;  // expected substring after "zoo.cfg:2: "
  };
  const Case cases[] = {
      {"tickTime=0", "tickTime: must be at least 1, got 0"},
      {"initLimit=ten", "initLimit: expected an integer, got 'ten'"},
      {"syncLimit=99999999999", "syncLimit: must be at least 1, got 99999999999"},
      {"clientPort=70000", "clientPort: expected a port number between 0 and 65535"},
      {"secureClientPort=x", "secureClientPort: expected a port number"},
      {"maxClientCnxns=-5", "maxClientCnxns: must be at least 0, got -5"},
      {"autopurge.purgeInterval=-1", "autopurge.purgeInterval: must be at least 0"},
      {"snapCount=1", "snapCount: must be at least 2"},
      {"dataLogDir=", "dataLogDir: expected a path, got ''"},
      {"syncEnabled=maybe", "syncEnabled: expected true or false, got 'maybe'"},
      {"leaderServes=maybe", "leaderServes: expected yes or no, got 'maybe'"},
      {"electionAlg=1", "electionAlg: only 3 (TCP fast leader election) is supported, got 1"},
      {"peerType=voter", "peerType: expected participant or observer, got 'voter'"},
      {"4lw.commands.whitelist=stat,sttt",
       "4lw.commands.whitelist: unknown four-letter word 'sttt'"},
      {"clientPortAddress=bad host", "clientPortAddress: expected a host name or IP address"},
      {"server.x=a:1:2", "server.x: expected server.N with N a non-negative integer"},
      {"server.1=a:1:1", "server.1: quorum port and election port must differ (both 1)"},
      {"server.1=a:0:2", "server.1: quorum port: expected a port number between 1 and 65535"},
      {"server.1=a:1:2:leader", "server.1: unknown role 'leader'"},
      {"server.1=a:1:2;b:c:3", "server.1: expected host:quorumPort:electionPort"},
      {"server.1=a:1:2;x", "server.1: client port: expected a port number"},
      {"server.1=a:1:2|b:1:2", "server.1: multiple addresses per server"},
      {"server.1=[::1:1:2", "server.1: expected host:quorumPort:electionPort"},
      {"group.1=1:x", "group.1: expected server ids separated by ':'"},
      {"group.1=1:1", "group.1: server 1 is listed twice"},
      {"weight.1=-1", "weight.1: must be at least 0"},
      {"ensemble.myid=-2", "ensemble.myid: expected a server id (a non-negative integer)"},
      {"ensemble.storage.grpc=localhost", "ensemble.storage.grpc: expected host:port or unix:path"},
      {"ensemble.metrics.gateway=unix:/x", "ensemble.metrics.gateway: expected host:port, got"},
      {"ensemble.metrics.bogus=0.0.0.0:1", "ensemble.metrics.bogus: unknown key"},
      {"ensemble.nope=1", "ensemble.nope: unknown key"},
      {"ensemble.logLevel=verbose", "ensemble.logLevel: expected one of trace, debug"},
      {"ensemble.sessionSecret=", "ensemble.sessionSecret: must not be empty"},
      {"version=100000000", "version: unknown key"},
      {"k=\\uZZZZ", "malformed \\uXXXX escape"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(ParseError(Cat("dataDir=/d\n", c.line, "\n")),
                HasSubstr(Cat("zoo.cfg:2: ", c.message)))
        << c.line;
  }
}

TEST(ZooCfgErrors, EveryQuorumInconsistencyNamesItsLine) {
  struct Case {
    std::string_view text;
    std::string_view message;
  };
  const Case cases[] = {
      {"dataDir=/d\nserver.1=a:1:2\nserver.2=b:1:2\ngroup.1=1:3\n",
       "zoo.cfg:4: group.1: server 3 has no server.3 line"},
      {"dataDir=/d\nserver.1=a:1:2\nserver.2=b:1:2\ngroup.1=1:2\ngroup.2=2\n",
       "zoo.cfg:5: group.2: server 2 is also in group.1"},
      {"dataDir=/d\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\ngroup.1=1:2\n",
       "zoo.cfg:4: server.3: participant is in no group"},
      {"dataDir=/d\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2:observer\ngroup.1=1:2:3\n",
       "zoo.cfg:5: group.1: server 3 is an observer"},
      {"dataDir=/d\nserver.1=a:1:2\nserver.2=b:1:2\nweight.1=3\n",
       "zoo.cfg:4: weight.1: weights need group.N lines"},
      {"dataDir=/d\nserver.1=a:1:2\nserver.2=b:1:2\ngroup.1=1:2\nweight.7=3\n",
       "zoo.cfg:5: weight.7: server 7 has no server.7 line"},
      {"dataDir=/d\nserver.1=a:1:2:observer\n",
       "zoo.cfg:2: server.1: observers without participants"},
      {"dataDir=/d\nserver.1=a:1:2\nserver.2=b:3:4:observer\n",
       "zoo.cfg:3: server.2: observers need at least two participants"},
      {"dataDir=/d\nstandaloneEnabled=false\n",
       "zoo.cfg:2: standaloneEnabled: is false, so at least one participant"},
      {"dataDir=/d\nserver.1=h:2888:3888\nserver.2=h:2889:2888\n",
       "zoo.cfg:3: server.2: address h:2888 is also used by server.1"},
      {"dataDir=/d\nensemble.myid=4\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n",
       "zoo.cfg:2: ensemble.myid: server id 4 has no server.4 line"},
      {"dataDir=/d\nclientPort=0\nclientPortAddress=127.0.0.1\n",
       "zoo.cfg:3: clientPortAddress: is set but clientPort is 0"},
      {"dataDir=/"
       "d\nfastleader.minNotificationInterval=500\nfastleader.maxNotificationInterval=100\n",
       "zoo.cfg:2: fastleader.minNotificationInterval: must not be larger than"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(ParseError(c.text), HasSubstr(c.message)) << c.text;
  }
}

// ---------------------------------------------------------------------------------
// Dynamic configuration files and myid (LoadZooCfg).

TEST(ZooCfgLoad, MergesTheDynamicConfigFile) {
  TempDir dir;
  const std::string dynamic = dir.File("zoo.cfg.dynamic.100000000");
  WriteText(dynamic,
            "server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\n"
            "server.2=127.0.0.1:2889:3889:participant;127.0.0.1:2182\n"
            "server.3=127.0.0.1:2890:3890:participant;127.0.0.1:2183\n"
            "server.4=127.0.0.1:2891:3891:observer;127.0.0.1:2184\n");
  WriteText(dir.File("zoo.cfg"), Cat("tickTime=2000\n"
                                     "dataDir=",
                                     dir.path(),
                                     "\n"
                                     "dynamicConfigFile=",
                                     dynamic, "\n"));
  WriteText(dir.File("myid"), "3\n");

  absl::StatusOr<Config> c = LoadZooCfg(dir.File("zoo.cfg"));
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->servers.size(), 4u);
  EXPECT_EQ(c->QuorumServers().size(), 3u);
  EXPECT_TRUE(c->IsObserver(4));
  EXPECT_EQ(c->servers[1].client_port, 2182);
  EXPECT_EQ(c->dynamic_config_version, 0x100000000);
  EXPECT_EQ(c->properties.at("server.3").origin, Cat(dynamic, ":3"));
  // The server id comes from dataDir/myid, as in ZooKeeper.
  EXPECT_EQ(c->my_id, 3);
  EXPECT_EQ(c->my_id_file, dir.File("myid"));
}

TEST(ZooCfgLoad, ServerLinesBesideDynamicConfigFileNameTheStaticLine) {
  TempDir dir;
  WriteText(dir.File("zoo.cfg.dynamic"), "server.1=a:1:2\n");
  WriteText(
      dir.File("zoo.cfg"),
      Cat("dataDir=/d\nserver.2=b:1:2\ndynamicConfigFile=", dir.File("zoo.cfg.dynamic"), "\n"));
  absl::StatusOr<Config> c = LoadZooCfg(dir.File("zoo.cfg"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), Cat(dir.File("zoo.cfg"),
                                      ":2: server.2: must be in the dynamic config file when "
                                      "dynamicConfigFile is set"));
}

TEST(ZooCfgLoad, DynamicConfigFileAcceptsOnlyMembershipLines) {
  TempDir dir;
  const std::string dynamic = dir.File("zoo.cfg.dynamic");
  WriteText(dynamic, "server.1=a:1:2\ntickTime=5\n");
  WriteText(dir.File("zoo.cfg"), Cat("dataDir=/d\ndynamicConfigFile=", dynamic, "\n"));
  absl::StatusOr<Config> c = LoadZooCfg(dir.File("zoo.cfg"));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr(Cat(dynamic,
                                                  ":2: tickTime: not allowed in a dynamic config "
                                                  "file")));
}

TEST(ZooCfgLoad, DynamicConfigFileMustNotHoldAVersion) {
  Config c = MustParse(kMinimal);
  absl::Status s = MergeDynamicConfig(c, "server.1=a:1:2\nversion=100000000\n", "dyn");
  EXPECT_EQ(s.message(),
            "dyn:2: version: not allowed in a dynamic config file (the version comes from the "
            "file name)");
  EXPECT_TRUE(c.servers.empty());  // unchanged on error
}

TEST(ZooCfgLoad, StaticFileOfAReconfiguredEnsembleParsesBeforeTheMerge) {
  // What ZooKeeper leaves behind after a reconfig: membership lives in the dynamic file.
  Config c = MustParse(
      "dataDir=/d\nstandaloneEnabled=false\nreconfigEnabled=true\n"
      "dynamicConfigFile=/conf/zoo.cfg.dynamic.100000000\n");
  EXPECT_TRUE(c.servers.empty());
  EXPECT_EQ(MergeDynamicConfig(c, "server.1=a:1:2\nserver.2=b:1:2:observer\n",
                               "/conf/zoo.cfg.dynamic.100000000"),
            absl::OkStatus());
  EXPECT_EQ(c.dynamic_config_version, 0x100000000);
  EXPECT_TRUE(c.IsDistributed());
  EXPECT_THAT(MergeDynamicConfig(c, "server.3=c:1:2\n", "again").message(),
              HasSubstr("again: the static configuration already has server"));
}

TEST(ZooCfgLoad, MissingDynamicConfigFileIsNotFound) {
  TempDir dir;
  WriteText(dir.File("zoo.cfg"), Cat("dataDir=/d\ndynamicConfigFile=", dir.File("absent"), "\n"));
  absl::StatusOr<Config> c = LoadZooCfg(dir.File("zoo.cfg"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(c.status().message(), HasSubstr(dir.File("absent")));
}

TEST(ZooCfgLoad, MissingFileIsNotFound) {
  absl::StatusOr<Config> c = LoadZooCfg("/nonexistent/zoo.cfg");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
}

TEST(ZooCfgLoad, DebianPlaceholderMyidNamesTheFile) {
  TempDir dir;
  // Debian ships this text in /etc/zookeeper/conf_example/myid.
  WriteText(dir.File("myid"),
            "replace this text with the cluster-unique zookeeper's instance id (1-255)\n");
  WriteText(dir.File("zoo.cfg"), Cat("dataDir=", dir.path(), "\n"));
  absl::StatusOr<Config> c = LoadZooCfg(dir.File("zoo.cfg"));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(),
              HasSubstr(Cat(dir.File("myid"),
                            ":1: myid: expected a server id (a non-negative integer), "
                            "got 'replace this text")));
}

TEST(ZooCfgLoad, MyidNotInServerListNamesTheMyidFile) {
  TempDir dir;
  WriteText(dir.File("myid"), "7");
  WriteText(dir.File("zoo.cfg"),
            Cat("dataDir=", dir.path(), "\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n"));
  absl::StatusOr<Config> c = LoadZooCfg(dir.File("zoo.cfg"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            Cat(dir.File("myid"), ":1: myid: server id 7 has no server.7 line"));
}

TEST(ZooCfgLoad, EnsembleMyidWinsOverTheMyidFile) {
  TempDir dir;
  WriteText(dir.File("myid"), "1\n");
  WriteText(dir.File("zoo.cfg"), Cat("dataDir=", dir.path(), "\nensemble.myid=2\n"));
  absl::StatusOr<Config> c = LoadZooCfg(dir.File("zoo.cfg"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->my_id, 2);
  EXPECT_EQ(c->my_id_file, "");
}

TEST(ZooCfgLoad, OverridesApplyBeforeMyidIsRead) {
  TempDir dir;
  std::filesystem::create_directory(dir.File("other"));
  WriteText(dir.File("other/myid"), "5\n");
  WriteText(dir.File("zoo.cfg"), "dataDir=/nonexistent\nminSessionTimeout=4000\n");
  // Each override alone would break minSession <= maxSession; together they are fine.
  const std::vector<std::string> overrides = {
      Cat("dataDir=", dir.File("other")), "minSessionTimeout=90000", "maxSessionTimeout=100000"};
  absl::StatusOr<Config> c = LoadZooCfg(dir.File("zoo.cfg"), overrides);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->my_id, 5);
  EXPECT_EQ(c->MinSessionTimeoutMs(), 90000);
  EXPECT_EQ(c->properties.at("dataDir").origin, "--set");
}

TEST(ZooCfgLoad, BadOverrideNamesTheFlag) {
  TempDir dir;
  WriteText(dir.File("zoo.cfg"), "dataDir=/d\n");
  const std::vector<std::string> overrides = {"tickTime=soon"};
  absl::StatusOr<Config> c = LoadZooCfg(dir.File("zoo.cfg"), overrides, "--config-set");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "--config-set: tickTime: expected an integer, got 'soon'");
}

// ---------------------------------------------------------------------------------
// Command-line overrides.

TEST(ZooCfgOverride, ReplacesTheValueAndMovesDerivedDefaults) {
  Config c = MustParse("dataDir=/d\ntickTime=2000\n");
  ASSERT_TRUE(ApplyOverride(c, "tickTime=500").ok());
  EXPECT_EQ(c.tick_time_ms, 500);
  EXPECT_EQ(c.MinSessionTimeoutMs(), 1000);
  EXPECT_EQ(c.MaxSessionTimeoutMs(), 10000);
  EXPECT_EQ(c.properties.at("tickTime"), (Property{"500", "--set"}));
}

TEST(ZooCfgOverride, ReplacesAServerLine) {
  Config c = MustParse("dataDir=/d\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n");
  ASSERT_TRUE(ApplyOverride(c, " server.2 = b2:5:6:observer ").ok());
  ASSERT_EQ(c.servers.size(), 3u);
  EXPECT_EQ(c.servers[1].host, "b2");
  EXPECT_TRUE(c.IsObserver(2));
}

TEST(ZooCfgOverride, EnsembleKeysAndZooKeeperKeysAlike) {
  Config c = MustParse(kMinimal);
  ASSERT_TRUE(ApplyOverride(c, "ensemble.logLevel=warn").ok());
  ASSERT_TRUE(ApplyOverride(c, "4lw.commands.whitelist=*").ok());
  ASSERT_TRUE(ApplyOverride(c, "ssl.clientAuth=need").ok());
  EXPECT_EQ(c.log_level, "warn");
  EXPECT_TRUE(c.FourLetterWordEnabled("mntr"));
  EXPECT_EQ(c.properties.at("ssl.clientAuth").value, "need");
}

TEST(ZooCfgOverride, ErrorsNameTheFlagAndLeaveTheConfigUnchanged) {
  const Config before = MustParse("dataDir=/d\ntickTime=2000\n");
  Config c = before;
  EXPECT_EQ(ApplyOverride(c, "tickTime=x").message(),
            "--set: tickTime: expected an integer, got 'x'");
  EXPECT_EQ(ApplyOverride(c, "tickTime").message(), "--set: expected key=value, got 'tickTime'");
  EXPECT_THAT(ApplyOverride(c, "tikTime=5", "--override").message(),
              HasSubstr("--override: tikTime: unknown key"));
  EXPECT_THAT(ApplyOverride(c, "minSessionTimeout=999999").message(),
              HasSubstr("--set: minSessionTimeout: minSessionTimeout (999999 ms) must not be "
                        "larger than maxSessionTimeout (40000 ms)"));
  EXPECT_EQ(c.tick_time_ms, 2000);
  EXPECT_EQ(c.properties, before.properties);
  EXPECT_FALSE(c.min_session_timeout_ms.has_value());
}

TEST(ZooCfgOverride, OverrideThatBreaksAFileSettingNamesBoth) {
  Config c = MustParse("dataDir=/d\nminSessionTimeout=5000\n");
  EXPECT_EQ(ApplyOverride(c, "tickTime=100").message(),
            "--set tickTime=100: zoo.cfg:2: minSessionTimeout: minSessionTimeout (5000 ms) must "
            "not be larger than maxSessionTimeout (2000 ms)");
  EXPECT_EQ(c.tick_time_ms, 2000);
}

TEST(ZooCfgOverride, DynamicMembershipCannotBeOverridden) {
  Config c = MustParse("dataDir=/d\ndynamicConfigFile=/conf/zoo.cfg.dynamic\n");
  EXPECT_THAT(ApplyOverride(c, "server.1=a:1:2").message(),
              HasSubstr("--set: server.1: cannot be overridden when dynamicConfigFile is set"));
  Config with_servers = MustParse("dataDir=/d\nserver.1=a:1:2\nserver.2=b:1:2\n");
  EXPECT_THAT(ApplyOverride(with_servers, "dynamicConfigFile=/x").message(),
              HasSubstr("--set: dynamicConfigFile: cannot be set once server lines are loaded"));
}

// ---------------------------------------------------------------------------------
// ToZooCfg.

TEST(ZooCfgRender, RoundTripsTheThreePlusObserverFile) {
  absl::StatusOr<Config> first = LoadZooCfg(TestdataPath("three_plus_observer.cfg"));
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string text = ToZooCfg(*first);
  absl::StatusOr<Config> second = ParseZooCfg(text, "rendered.cfg");
  ASSERT_TRUE(second.ok()) << second.status() << "\n" << text;

  EXPECT_EQ(ToZooCfg(*second), text);  // a fixed point
  EXPECT_EQ(second->servers, first->servers);
  EXPECT_EQ(second->my_id, first->my_id);
  EXPECT_EQ(second->DataLogDir(), first->DataLogDir());
  EXPECT_EQ(second->four_letter_words, first->four_letter_words);
  EXPECT_EQ(second->snap_retain_count, first->snap_retain_count);
  EXPECT_EQ(second->admin_enable_server, first->admin_enable_server);
  EXPECT_EQ(second->replication_grpc_address, first->replication_grpc_address);
  EXPECT_EQ(second->super_digest, first->super_digest);
  EXPECT_EQ(second->properties.at("metricsProvider.httpPort").value, "7000");
  EXPECT_THAT(text, HasSubstr("\nserver.3=[fd00::3]:2888:3888\n"));
  EXPECT_THAT(text, HasSubstr("\nserver.4=zk4.example.com:2888:3888:observer\n"));
  EXPECT_THAT(text, HasSubstr("\nserver.2=zk2.example.com:2888:3888;10.0.0.2:2181\n"));
}

TEST(ZooCfgRender, RoundTripsEveryTypedSetting) {
  Config c = MustParse(
      "tickTime=100\ninitLimit=3\nsyncLimit=2\ndataDir=/d\ndataLogDir=/l\nclientPort=0\n"
      "secureClientPort=2281\nsecureClientPortAddress=::1\nobserverMasterPort=2191\n"
      "maxClientCnxns=0\nmaxCnxns=5000\nminSessionTimeout=300\nmaxSessionTimeout=9000\n"
      "connectToLearnerMasterLimit=7\nautopurge.snapRetainCount=4\n"
      "autopurge.purgeInterval=1\nsnapCount=1000\npreAllocSize=1024\n"
      "fsync.warningthresholdms=50\nforceSync=no\nsyncEnabled=false\n"
      "globalOutstandingLimit=10\njute.maxbuffer=2097152\njute.maxbuffer.extrasize=4096\n"
      "4lw.commands.whitelist=ruok,mntr\nskipACL=yes\nextendedTypesEnabled=true\n"
      "DigestAuthenticationProvider.superDigest=super:abc=\nelectionAlg=3\n"
      "leaderServes=no\nstandaloneEnabled=false\nreconfigEnabled=true\n"
      "quorumListenOnAllIPs=true\npeerType=observer\n"
      "fastleader.minNotificationInterval=100\nfastleader.maxNotificationInterval=1000\n"
      "admin.enableServer=false\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=8081\n"
      "server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2:observer;2181\n"
      "group.1=1\ngroup.2=2\nweight.1=2\n"
      "ensemble.myid=3\nensemble.storage.grpc=unix:/s\nensemble.replication.grpc=h:1\n"
      "ensemble.election.grpc=h:2\nensemble.gateway.grpc=h:3\nensemble.metrics.storage=h:4\n"
      "ensemble.metrics.replication=h:5\nensemble.metrics.election=h:6\n"
      "ensemble.metrics.gateway=h:7\nensemble.logLevel=error\nensemble.sessionSecret=s3cret\n"
      "ensemble.maxOutstandingPerConnection=50\nensemble.maxWatchesPerSession=7\n"
      "ensemble.maxSendQueueBytes=8388608\n"
      "clientTcpKeepAlive=true\n");
  const std::string text = ToZooCfg(c);
  Config d = MustParse(text);
  EXPECT_EQ(ToZooCfg(d), text);
  // Every key given above (a typed non-default value, or recorded) is written back.
  for (const auto& [key, property] : c.properties) {
    if (key == "electionAlg") continue;  // 3 is the only value and the default
    EXPECT_TRUE(d.properties.contains(key)) << key << " is missing from\n" << text;
  }
  EXPECT_EQ(d.weights, c.weights);
  EXPECT_EQ(d.groups, c.groups);
  EXPECT_EQ(d.peer_type, PeerRole::kObserver);
  EXPECT_EQ(d.JuteMaxBufferExtraSize(), 4096);
  EXPECT_THAT(text, HasSubstr("\nforceSync=no\n"));  // ZooKeeper reads yes/no here
  EXPECT_THAT(text, HasSubstr("\nskipACL=yes\n"));
  EXPECT_THAT(text, HasSubstr("\nsecureClientPortAddress=[::1]\n"));
}

TEST(ZooCfgParse, GatewayLimitKeys) {
  Config defaults = MustParse("dataDir=/d\n");
  EXPECT_EQ(defaults.max_outstanding_per_connection, 1000);
  EXPECT_EQ(defaults.max_watches_per_session, 0);
  EXPECT_EQ(defaults.max_send_queue_bytes, 0);
  Config c = MustParse(
      "dataDir=/d\nensemble.maxOutstandingPerConnection=5\nensemble.maxWatchesPerSession=3\n"
      "ensemble.maxSendQueueBytes=65536\n");
  EXPECT_EQ(c.max_outstanding_per_connection, 5);
  EXPECT_EQ(c.max_watches_per_session, 3);
  EXPECT_EQ(c.max_send_queue_bytes, 65536);
  EXPECT_THAT(ParseError("dataDir=/d\nensemble.maxOutstandingPerConnection=0\n"),
              HasSubstr("ensemble.maxOutstandingPerConnection"));
}

TEST(ZooCfgRender, ProgrammaticConfigKeepsDerivedDefaultsDerived) {
  // How a launcher builds a local ensemble: fields set in code, then rendered.
  Config c;
  c.tick_time_ms = 500;
  c.data_dir = "/tmp/ensemble/1";
  c.my_id = 1;
  for (int sid = 1; sid <= 3; ++sid) {
    ServerSpec s;
    s.sid = sid;
    s.host = "127.0.0.1";
    s.quorum_port = 2887 + sid;
    s.election_port = 3887 + sid;
    c.servers.push_back(s);
  }
  Config parsed = MustParse(ToZooCfg(c));
  EXPECT_EQ(parsed.servers, c.servers);
  EXPECT_EQ(parsed.my_id, 1);
  EXPECT_EQ(parsed.MinSessionTimeoutMs(), 1000);
  EXPECT_FALSE(parsed.properties.contains("minSessionTimeout"));
  EXPECT_EQ(parsed.client_port, 2181);
}

TEST(ZooCfgRender, EscapesValuesThatNeedIt) {
  Config c = MustParse("dataDir=C:\\\\zk\\\\data\n");
  EXPECT_EQ(c.data_dir, "C:\\zk\\data");
  EXPECT_EQ(MustParse(ToZooCfg(c)).data_dir, "C:\\zk\\data");
}

// ---------------------------------------------------------------------------------
// Small helpers.

TEST(ZooCfgHelpers, SecretKeys) {
  EXPECT_TRUE(IsSecretKey("DigestAuthenticationProvider.superDigest"));
  EXPECT_TRUE(IsSecretKey("ensemble.sessionSecret"));
  EXPECT_TRUE(IsSecretKey("ssl.keyStore.password"));
  EXPECT_FALSE(IsSecretKey("tickTime"));
}

TEST(ZooCfgHelpers, RecordedKeysAreSortedAndDisjointFromTypedKeys) {
  absl::Span<const std::string_view> keys = RecordedZooKeeperKeys();
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  const std::string minimal = ToZooCfg(MustParse(kMinimal));
  for (std::string_view key : keys) {
    // A recorded key parses, sets nothing typed, and is written back after the rest.
    Config c = MustParse(Cat("dataDir=/d\n", key, "=1\n"));
    EXPECT_EQ(ToZooCfg(c), Cat(minimal, key, "=1\n")) << key;
  }
  EXPECT_TRUE(IsRecordedZooKeeperKey("sslQuorum"));
  EXPECT_FALSE(IsRecordedZooKeeperKey("tickTime"));
}

TEST(ZooCfgHelpers, DocsListEveryKey) {
  const std::string docs = ReadText(ENSEMBLE_CONFIG_DOCS);
  ASSERT_FALSE(docs.empty()) << ENSEMBLE_CONFIG_DOCS;
  for (std::string_view key : TypedKeyNames()) {
    EXPECT_THAT(docs, HasSubstr(Cat("| `", key, "` |"))) << key << " has no table row";
  }
  for (std::string_view key : RecordedZooKeeperKeys()) {
    EXPECT_THAT(docs, HasSubstr(Cat("`", key, "`"))) << key;
  }
  for (std::string_view prefix : RecordedKeyPrefixes()) {
    EXPECT_THAT(docs, HasSubstr(Cat("| `", prefix, "` |"))) << prefix;
  }
}

}  // namespace
}  // namespace ensemble::config
