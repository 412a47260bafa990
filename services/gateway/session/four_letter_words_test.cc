#include "services/gateway/session/four_letter_words.h"

#include <gtest/gtest.h>

namespace ensemble::gateway {
namespace {

TEST(ParseFourLetterWord, KnowsZooKeeperCommandsOnly) {
  EXPECT_EQ(ParseFourLetterWord("ruok"), FourLetterWord::kRuok);
  EXPECT_EQ(ParseFourLetterWord("mntr"), FourLetterWord::kMntr);
  EXPECT_EQ(ParseFourLetterWord("hash"), FourLetterWord::kHash);
  EXPECT_EQ(ParseFourLetterWord(std::string("\xff\xf4\xff\xfd", 4)), FourLetterWord::kTelnetClose);
  EXPECT_EQ(ParseFourLetterWord("xyzw"), std::nullopt);
  EXPECT_EQ(ParseFourLetterWord("icfg"), std::nullopt);  // gone in 3.8
  EXPECT_EQ(ParseFourLetterWord(std::string("\0\0\0\x2c", 4)), std::nullopt);
  EXPECT_EQ(ParseFourLetterWord("ruo"), std::nullopt);
}

// Text captured from ZooKeeper 3.8.0 with 4lw.commands.whitelist=ruok, stat.
TEST(NotInWhitelist, MatchesZooKeeper) {
  EXPECT_EQ(NotInWhitelist(FourLetterWord::kMntr),
            "mntr is not executed because it is not in the whitelist.\n");
}

ServerInfo SampleInfo() {
  ServerInfo info;
  info.version = "3.8.0-ensemble, built on 2026-01-01 00:00 UTC";
  info.mode = "standalone";
  info.zxid = 4;
  info.node_count = 8;
  info.min_latency_ms = 0;
  info.avg_latency_ms = 2.0;
  info.max_latency_ms = 7;
  info.packets_received = 13;
  info.packets_sent = 15;
  ConnectionInfo probe;
  probe.remote = "/127.0.0.1:43448";
  probe.interest_ops = 0;
  probe.received = 1;
  ConnectionInfo client;
  client.remote = "/127.0.0.1:43440";
  client.received = 11;
  client.sent = 11;
  client.session_id = 0x100000a195b0000;
  client.last_op = "GETD";
  client.established_ms = 1795441334827;
  client.timeout_ms = 10000;
  client.last_cxid = 10;
  client.last_zxid = 4;
  client.last_response_ms = 679967;
  client.last_latency_ms = 1;
  client.avg_latency_ms = 2;
  client.max_latency_ms = 7;
  info.connections = {probe, client};
  return info;
}

// The layout of ZooKeeper 3.8.0's `stat` output, captured from a real server.
TEST(FormatFourLetterWord, StatMatchesZooKeeperLayout) {
  EXPECT_EQ(FormatFourLetterWord(FourLetterWord::kStat, SampleInfo()),
            "Zookeeper version: 3.8.0-ensemble, built on 2026-01-01 00:00 UTC\n"
            "Clients:\n"
            " /127.0.0.1:43448[0](queued=0,recved=1,sent=0)\n"
            " /127.0.0.1:43440[1](queued=0,recved=11,sent=11)\n"
            "\n"
            "Latency min/avg/max: 0/2.0/7\n"
            "Received: 13\n"
            "Sent: 15\n"
            "Connections: 2\n"
            "Outstanding: 0\n"
            "Zxid: 0x4\n"
            "Mode: standalone\n"
            "Node count: 8\n");
}

TEST(FormatFourLetterWord, SrvrHasNoClientList) {
  std::string srvr = FormatFourLetterWord(FourLetterWord::kSrvr, SampleInfo());
  EXPECT_EQ(srvr.find("Clients:"), std::string::npos);
  EXPECT_NE(srvr.find("Mode: standalone\n"), std::string::npos);
}

TEST(FormatFourLetterWord, ConsMatchesZooKeeperLine) {
  std::string cons = FormatFourLetterWord(FourLetterWord::kCons, SampleInfo());
  EXPECT_EQ(cons,
            " /127.0.0.1:43448[0](queued=0,recved=1,sent=0)\n"
            " /127.0.0.1:43440[1](queued=0,recved=11,sent=11,sid=0x100000a195b0000,lop=GETD,"
            "est=1795441334827,to=10000,lcxid=0xa,lzxid=0x4,lresp=679967,llat=1,minlat=0,"
            "avglat=2,maxlat=7)\n"
            "\n");
}

TEST(FormatFourLetterWord, SimpleCommands) {
  ServerInfo info = SampleInfo();
  EXPECT_EQ(FormatFourLetterWord(FourLetterWord::kRuok, info), "imok");
  EXPECT_EQ(FormatFourLetterWord(FourLetterWord::kIsro, info), "rw");
  EXPECT_EQ(FormatFourLetterWord(FourLetterWord::kCrst, info), "Connection stats reset.\n");
  EXPECT_EQ(FormatFourLetterWord(FourLetterWord::kSrst, info), "Server stats reset.\n");
  EXPECT_EQ(FormatFourLetterWord(FourLetterWord::kWchs, info),
            "0 connections watching 0 paths\nTotal watches:0\n");
  EXPECT_EQ(FormatFourLetterWord(FourLetterWord::kWchc, info), "\n");
  info.trace_mask = 306;
  EXPECT_EQ(FormatFourLetterWord(FourLetterWord::kGtmk, info), "306");
  info.conf = {{"clientPort", "2181"}, {"tickTime", "2000"}};
  EXPECT_EQ(FormatFourLetterWord(FourLetterWord::kConf, info), "clientPort=2181\ntickTime=2000\n");
}

// Byte for byte what ZooKeeper 3.8.0 printed for two sessions: 0x...0000 with
// a data watch on /x, 0x...0001 with exists watches on /x/y and /nothere.
TEST(FormatFourLetterWord, WatchListsAndDirsAsZooKeeper) {
  ServerInfo info = SampleInfo();
  info.watching_connections = 2;
  info.watched_paths = 3;
  info.data_watch_count = 3;
  info.watches_by_session = {{0x10000d52f140000, {"/x"}},
                             {0x10000d52f140001, {"/x/y", "/nothere"}}};
  info.watches_by_path = {{"/x/y", {0x10000d52f140001}},
                          {"/nothere", {0x10000d52f140001}},
                          {"/x", {0x10000d52f140000}}};
  EXPECT_EQ(FormatFourLetterWord(FourLetterWord::kWchs, info),
            "2 connections watching 3 paths\nTotal watches:3\n");
  EXPECT_EQ(FormatFourLetterWord(FourLetterWord::kWchc, info),
            "0x10000d52f140000\n\t/x\n0x10000d52f140001\n\t/x/y\n\t/nothere\n\n");
  EXPECT_EQ(
      FormatFourLetterWord(FourLetterWord::kWchp, info),
      "/x/y\n\t0x10000d52f140001\n/nothere\n\t0x10000d52f140001\n/x\n\t0x10000d52f140000\n\n");
  // ZooKeeper: datadir_size is the transaction log's folder, logdir_size the
  // snapshots'.
  info.log_dir_size = 67108880;
  info.snapshot_dir_size = 457;
  EXPECT_EQ(FormatFourLetterWord(FourLetterWord::kDirs, info),
            "datadir_size: 67108880\nlogdir_size: 457\n");
  info.serving = false;
  EXPECT_EQ(FormatFourLetterWord(FourLetterWord::kWchc, info),
            "This ZooKeeper instance is not currently serving requests\n");
}

TEST(FormatFourLetterWord, NotServingAnswersLikeZooKeeper) {
  ServerInfo info = SampleInfo();
  info.serving = false;
  EXPECT_EQ(FormatFourLetterWord(FourLetterWord::kSrvr, info),
            "This ZooKeeper instance is not currently serving requests\n");
  EXPECT_EQ(FormatFourLetterWord(FourLetterWord::kRuok, info), "imok");
}

TEST(FormatFourLetterWord, MntrIsTabSeparated) {
  std::string mntr = FormatFourLetterWord(FourLetterWord::kMntr, SampleInfo());
  EXPECT_EQ(mntr.rfind("zk_version\t3.8.0-ensemble", 0), 0u);
  EXPECT_NE(mntr.find("\nzk_server_state\tstandalone\n"), std::string::npos);
  EXPECT_NE(mntr.find("\nzk_num_alive_connections\t2\n"), std::string::npos);
  EXPECT_NE(mntr.find("\nzk_avg_latency\t2.0\n"), std::string::npos);
  EXPECT_NE(mntr.find("\nzk_znode_count\t8\n"), std::string::npos);
}

TEST(FormatFourLetterWord, DumpGroupsSessionsAndConnections) {
  ServerInfo info = SampleInfo();
  info.connections[1].expires_at_ms = 5000;
  std::string dump = FormatFourLetterWord(FourLetterWord::kDump, info);
  EXPECT_EQ(dump.rfind("SessionTracker dump:\nSession Sets (1)/(1):\n", 0), 0u);
  EXPECT_NE(dump.find("\t0x100000a195b0000\n"), std::string::npos);
  EXPECT_NE(dump.find("Connections dump:\nConnections Sets (1)/(2):\n2 expire at "),
            std::string::npos);
  EXPECT_NE(dump.find("\tip: /127.0.0.1:43440 sessionId: 0x100000a195b0000\n"), std::string::npos);
}

TEST(JavaDouble, PrintsLikeDoubleToString) {
  EXPECT_EQ(JavaDouble(0), "0.0");
  EXPECT_EQ(JavaDouble(2), "2.0");
  EXPECT_EQ(JavaDouble(2.5), "2.5");
  EXPECT_EQ(JavaDouble(0.3333), "0.3333");
}

TEST(JavaDate, PrintsLikeDateToStringInUtc) {
  EXPECT_EQ(JavaDate(0), "Thu Jan 01 00:00:00 UTC 1970");
  EXPECT_EQ(JavaDate(1795441334827), "Mon Nov 23 13:42:14 UTC 2026");
}

}  // namespace
}  // namespace ensemble::gateway
