// Writes the seed corpora of the fuzzers (tests/fuzz/corpus/<target>/) and the
// zoo.cfg dictionary (tests/fuzz/dicts/zoo_cfg_fuzz.dict): valid inputs built
// with the project's own encoders (jute frames, the snapshot writer, the txn
// log codec, serialized protobuf messages) and scripts that walk each protocol
// through its normal paths, so that fuzzing starts from deep states.
//
//   fuzz_seed_gen <repo root>
//
// Regenerating overwrites the generated files (named after what they hold) and
// leaves other files in the corpus directories alone; jute_decoder_fuzz's
// corpus is not generated here. See tests/fuzz/README.md.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/base/zxid.h"
#include "common/config/zoo_cfg.h"
#include "common/jute/op_code.h"
#include "common/jute/records.h"
#include "common/jute/request.h"
#include "ensemble/election.pb.h"
#include "ensemble/replication.pb.h"
#include "services/gateway/session/auth.h"
#include "services/storage/core/state_machine.h"
#include "services/storage/log/txn_log_codec.h"
#include "services/storage/snapshot/snapshot_writer.h"
#include "tests/fuzz/fuzz_input.h"

namespace ensemble::fuzz {
namespace {

namespace fs = std::filesystem;
using jute::OpCode;

fs::path g_root;

void Write(const std::string& target, const std::string& name, const std::string& bytes) {
  const fs::path dir = g_root / "tests/fuzz/corpus" / target;
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::cerr << "cannot write " << (dir / name) << "\n";
    std::exit(1);
  }
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// ---------------------------------------------------------------------------
// gateway_frames_fuzz

std::string Connect(int64_t session, std::string passwd, int32_t timeout_ms,
                    bool has_read_only = true) {
  jute::ConnectRequest req;
  req.timeout_ms = timeout_ms;
  req.session_id = session;
  req.passwd = std::move(passwd);
  req.has_read_only = has_read_only;
  return jute::EncodeConnectRequest(req);
}

std::string Req(int32_t xid, OpCode op, const jute::RequestBody& body) {
  return jute::EncodeRequest(jute::RequestHeader{xid, static_cast<int32_t>(op)}, body);
}

// A request frame the encoder refuses to build (an op clients never send, an
// unknown op): length, xid, type, then `body` as given.
std::string RawReq(int32_t xid, int32_t type, const std::string& body) {
  std::string out;
  auto put = [&out](uint32_t v) {
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  put(static_cast<uint32_t>(8 + body.size()));
  put(static_cast<uint32_t>(xid));
  put(static_cast<uint32_t>(type));
  return out + body;
}

std::vector<jute::Acl> Open() { return {jute::Acl{31, jute::Id{"world", "anyone"}}}; }

jute::CreateRequest Create(std::string path, std::string data, int32_t flags = 0) {
  jute::CreateRequest c;
  c.path = std::move(path);
  c.data = std::move(data);
  c.acl = Open();
  c.flags = flags;
  return c;
}

// A gateway script: flags, then commands.
class GatewayScript {
 public:
  explicit GatewayScript(uint8_t flags) { s_.Byte(flags); }
  GatewayScript& Data(const std::string& bytes) {
    // Commands carry at most 0x1fff bytes.
    for (size_t i = 0; i < bytes.size(); i += 0x1fff) {
      const std::string piece = bytes.substr(i, 0x1fff);
      s_.Byte(gateway_cmd::kData).U16(static_cast<uint16_t>(piece.size())).Bytes(piece);
    }
    return *this;
  }
  GatewayScript& DeliverAll() { return Op(gateway_cmd::kDeliverAll); }
  GatewayScript& DeliverOne(int which) { return Op(gateway_cmd::kDeliverOne, which); }
  GatewayScript& Reject(int err_index) { return Op(gateway_cmd::kReject, err_index); }
  GatewayScript& Tick(uint8_t hundreds) {
    Op(gateway_cmd::kTick);
    s_.Byte(hundreds);
    return *this;
  }
  GatewayScript& Upstream(int what) { return Op(gateway_cmd::kUpstream, what); }
  GatewayScript& Expire() { return Op(gateway_cmd::kExpire); }
  GatewayScript& End() { return Op(gateway_cmd::kEndOfStream); }
  const std::string& str() const { return s_.str(); }

 private:
  GatewayScript& Op(uint8_t kind, int arg = 0) {
    s_.Byte(static_cast<uint8_t>(kind | (arg << 3)));
    return *this;
  }
  Script s_;
};

void GatewaySeeds() {
  const std::string target = "gateway_frames_fuzz";
  const std::string zeros(16, '\0');
  const std::string preset_password =
      gateway::SessionPassword(gateway::kDefaultSessionSecret, kGatewayPresetSession);

  Write(target, "new_session_crud",
        GatewayScript(0)
            .Data(Connect(0, zeros, 30000))
            .DeliverAll()
            .Data(Req(1, OpCode::kCreate, Create("/x", "hello")) +
                  Req(2, OpCode::kGetData, jute::GetDataRequest{"/x", true}) +
                  Req(3, OpCode::kExists, jute::ExistsRequest{"/a/b", true}) +
                  Req(4, OpCode::kGetChildren2, jute::GetChildren2Request{"/a", true}) +
                  Req(5, OpCode::kSetData, jute::SetDataRequest{"/x", "world", -1}) +
                  Req(6, OpCode::kGetData, jute::GetDataRequest{"/x", false}))
            .DeliverAll()
            .Data(Req(7, OpCode::kDelete, jute::DeleteRequest{"/x", -1}) +
                  Req(8, OpCode::kPing, jute::EmptyRecord{}))
            .DeliverAll()
            .Data(Req(9, OpCode::kCloseSession, jute::EmptyRecord{}))
            .DeliverAll()
            .str());

  jute::MultiRequest multi;
  multi.ops.push_back({OpCode::kCreate, Create("/m", "1")});
  multi.ops.push_back({OpCode::kCheck, jute::CheckVersionRequest{"/m", 0}});
  multi.ops.push_back({OpCode::kSetData, jute::SetDataRequest{"/m", "2", 0}});
  multi.ops.push_back({OpCode::kDelete, jute::DeleteRequest{"/a/b", -1}});
  jute::MultiRequest bad_multi;
  bad_multi.ops.push_back({OpCode::kCreate, Create("/m2", "")});
  bad_multi.ops.push_back({OpCode::kCheck, jute::CheckVersionRequest{"/nope", 3}});
  jute::MultiRequest multi_read;
  multi_read.ops.push_back({OpCode::kGetChildren, jute::GetChildrenRequest{"/a", false}});
  multi_read.ops.push_back({OpCode::kGetData, jute::GetDataRequest{"/a/c", false}});
  multi_read.ops.push_back({OpCode::kGetData, jute::GetDataRequest{"/missing", false}});
  Write(target, "reattach_multi_sync",
        GatewayScript(0)
            .Data(Connect(kGatewayPresetSession, preset_password, 30000))
            .DeliverAll()
            .Data(Req(1, OpCode::kGetEphemerals, jute::GetEphemeralsRequest{"/"}) +
                  Req(2, OpCode::kGetAllChildrenNumber, jute::GetAllChildrenNumberRequest{"/a"}) +
                  Req(3, OpCode::kSync, jute::SyncRequest{"/"}) + Req(4, OpCode::kMulti, multi) +
                  Req(5, OpCode::kMulti, bad_multi) + Req(6, OpCode::kMultiRead, multi_read) +
                  Req(7, OpCode::kGetAcl, jute::GetAclRequest{"/a"}))
            .DeliverAll()
            .str());

  Write(target, "reattach_bad_password",
        GatewayScript(0).Data(Connect(kGatewayPresetSession, zeros, 30000)).DeliverAll().str());
  Write(target, "reattach_unknown_session",
        GatewayScript(0)
            .Data(Connect(
                0x0200000000000005LL,
                gateway::SessionPassword(gateway::kDefaultSessionSecret, 0x0200000000000005LL),
                30000))
            .DeliverAll()
            .str());

  jute::SetWatches sw;
  sw.relative_zxid = 1;
  sw.data_watches = {"/a", "/x"};
  sw.exist_watches = {"/y"};
  sw.child_watches = {"/a"};
  jute::SetWatches2 sw2;
  sw2.relative_zxid = 0;
  sw2.data_watches = {"/a/c"};
  sw2.persistent_watches = {"/q"};
  sw2.persistent_recursive_watches = {"/"};
  Write(target, "watches",
        GatewayScript(0)
            .Data(Connect(0, zeros, 10000))
            .DeliverAll()
            .Data(Req(-8, OpCode::kSetWatches, sw) + Req(-8, OpCode::kSetWatches2, sw2) +
                  Req(1, OpCode::kAddWatch, jute::AddWatchRequest{"/a", 1}) +
                  Req(2, OpCode::kCreate, Create("/a/new", "n")) +
                  Req(3, OpCode::kSetData, jute::SetDataRequest{"/a/c", "changed", -1}) +
                  Req(4, OpCode::kCheckWatches, jute::CheckWatchesRequest{"/a", 3}) +
                  Req(5, OpCode::kRemoveWatches, jute::RemoveWatchesRequest{"/a", 3}) +
                  Req(6, OpCode::kDelete, jute::DeleteRequest{"/a/new", -1}))
            .DeliverAll()
            .Expire()
            .DeliverAll()
            .str());

  jute::CreateRequest digest_node = Create("/secret", "s");
  digest_node.acl = {
      jute::Acl{31, jute::Id{"digest", gateway::DigestOf("user:pw")}},
      jute::Acl{1, jute::Id{"ip", "127.0.0.1"}},
  };
  Write(target, "auth_acl",
        GatewayScript(gateway_cmd::kFlagSuperDigest)
            .Data(Connect(0, zeros, 30000))
            .DeliverAll()
            .Data(Req(-4, OpCode::kAuth, jute::AuthPacket{0, "digest", "user:pw"}) +
                  Req(1, OpCode::kCreate, digest_node) +
                  Req(2, OpCode::kGetAcl, jute::GetAclRequest{"/secret"}) +
                  Req(3, OpCode::kSetAcl, jute::SetAclRequest{"/secret", Open(), 0}) +
                  Req(4, OpCode::kWhoAmI, jute::EmptyRecord{}) +
                  Req(-4, OpCode::kAuth, jute::AuthPacket{0, "digest", "super:secret"}) +
                  Req(5, OpCode::kGetData, jute::GetDataRequest{"/secret", false}) +
                  Req(-4, OpCode::kAuth, jute::AuthPacket{0, "kerberos", "x"}))
            .DeliverAll()
            .str());

  for (const char* word : {"ruok", "stat", "cons", "dump", "wchc", "mntr", "conf", "srvr"}) {
    Write(target, std::string("4lw_") + word, GatewayScript(0).Data(word).str());
  }
  Write(target, "4lw_stmk",
        GatewayScript(0).Data(std::string("stmk") + std::string("\0\0\0\0\0\0\1\2", 8)).str());

  Write(target, "pipelined_small_outstanding",
        GatewayScript(gateway_cmd::kFlagSmallOutstanding)
            .Data(Connect(0, zeros, 30000))
            .DeliverOne(1)
            .Data(Req(1, OpCode::kGetData, jute::GetDataRequest{"/a", false}) +
                  Req(2, OpCode::kCreate, Create("/p", "")) +
                  Req(3, OpCode::kGetChildren, jute::GetChildrenRequest{"/", false}) +
                  Req(4, OpCode::kSetData, jute::SetDataRequest{"/p", "v", 0}) +
                  Req(5, OpCode::kSync, jute::SyncRequest{"/p"}) +
                  Req(6, OpCode::kExists, jute::ExistsRequest{"/p", false}))
            .DeliverOne(0)
            .Tick(3)
            .DeliverOne(1)
            .DeliverOne(1)
            .DeliverOne(0)
            .DeliverOne(2)
            .DeliverOne(0)
            .Reject(1)
            .DeliverAll()
            .str());

  Write(target, "old_client_no_read_only",
        GatewayScript(0)
            .Data(Connect(0, zeros, 5000, /*has_read_only=*/false))
            .DeliverAll()
            .Data(Req(1, OpCode::kCreate2, Create("/c2", "x", 2)) +
                  Req(2, OpCode::kCreateContainer, Create("/cont", "")) +
                  Req(3, OpCode::kCreate, Create("/eph", "", 1)) +
                  Req(4, OpCode::kCreate, Create("/seq-", "", 3)))
            .DeliverAll()
            .Tick(255)
            .str());

  jute::CreateTtlRequest ttl;
  ttl.path = "/ttl";
  ttl.data = "t";
  ttl.acl = Open();
  ttl.flags = 5;
  ttl.ttl = 1000;
  Write(target, "ttl_and_lost_upstream",
        GatewayScript(0)
            .Data(Connect(0, zeros, 30000))
            .DeliverAll()
            .Data(Req(1, OpCode::kCreateTtl, ttl) +
                  Req(2, OpCode::kSetData, jute::SetDataRequest{"/ttl", "u", -1}))
            .DeliverOne(1)
            .Upstream(1)
            .DeliverAll()
            .str());
  Write(target, "reject_connection_loss",
        GatewayScript(0)
            .Data(Connect(0, zeros, 30000))
            .DeliverAll()
            .Data(Req(1, OpCode::kCreate, Create("/r", "")))
            .Reject(0)
            .str());
  Write(target, "session_moved",
        GatewayScript(0)
            .Data(Connect(kGatewayPresetSession, preset_password, 30000))
            .DeliverAll()
            .Data(Req(1, OpCode::kGetData, jute::GetDataRequest{"/e", true}))
            .Upstream(2)
            .str());

  jute::ReconfigRequest reconfig;
  reconfig.joining_servers = "server.4=h:1:2";
  Write(target, "reconfig_sasl_unknown_op",
        GatewayScript(gateway_cmd::kFlagReconfig)
            .Data(Connect(0, zeros, 30000))
            .DeliverAll()
            .Data(Req(1, OpCode::kReconfig, reconfig) +
                  RawReq(2, static_cast<int32_t>(OpCode::kDeleteContainer),
                         std::string("\0\0\0\2/q", 6)) +
                  Req(3, OpCode::kSasl, jute::GetSaslRequest{std::string("tok")}))
            .DeliverAll()
            .str());
  Write(target, "unknown_op",
        GatewayScript(0)
            .Data(Connect(0, zeros, 30000))
            .DeliverAll()
            .Data(RawReq(1, 999, ""))
            .DeliverAll()
            .str());
  Write(target, "frame_over_limit",
        GatewayScript(gateway_cmd::kFlagSmallFrames)
            .Data(Connect(0, zeros, 30000))
            .DeliverAll()
            .Data(Req(1, OpCode::kCreate, Create("/big", std::string(200, 'b'))))
            .DeliverAll()
            .str());
  Write(target, "storage_down",
        GatewayScript(gateway_cmd::kFlagStorageDown).Data(Connect(0, zeros, 30000)).str());
  Write(target, "replication_down_then_up",
        GatewayScript(gateway_cmd::kFlagReplicationDown)
            .Data(Connect(kGatewayPresetSession, preset_password, 30000))
            .DeliverAll()
            .Data(Req(1, OpCode::kCreate, Create("/w", "")))
            .Upstream(3)
            .DeliverAll()
            .End()
            .str());
}

// ---------------------------------------------------------------------------
// storage state for snapshot and txn log seeds

ensemble::v1::Acl ProtoAcl(int32_t perms, const std::string& scheme, const std::string& id) {
  ensemble::v1::Acl acl;
  acl.set_perms(perms);
  acl.mutable_id()->set_scheme(scheme);
  acl.mutable_id()->set_id(id);
  return acl;
}

// A small history touching every op kind, zxids (1, 1..n).
std::vector<ensemble::v1::Txn> History() {
  std::vector<ensemble::v1::Txn> out;
  constexpr int64_t kS1 = 0x0100000000000001LL;
  constexpr int64_t kS2 = 0x0100000000000002LL;
  auto add = [&](int64_t session, int32_t type, ensemble::v1::Op op) {
    ensemble::v1::Txn txn;
    auto* h = txn.mutable_header();
    h->set_session_id(session);
    h->set_cxid(static_cast<int32_t>(out.size()));
    h->set_zxid(Zxid::Make(1, static_cast<int64_t>(out.size()) + 1));
    h->set_time_ms(1700000000000 + static_cast<int64_t>(out.size()));
    h->set_type(type);
    h->set_origin(7);
    *txn.mutable_op() = std::move(op);
    out.push_back(std::move(txn));
  };
  auto create = [](const std::string& path, const std::string& data, int mode,
                   std::vector<ensemble::v1::Acl> acl, int64_t ttl = 0) {
    ensemble::v1::Op op;
    auto* c = op.mutable_create();
    c->set_path(path);
    c->set_data(data);
    c->set_mode(static_cast<ensemble::v1::CreateMode>(mode));
    for (auto& a : acl) *c->add_acl() = a;
    c->set_ttl_ms(ttl);
    return op;
  };
  const auto open = std::vector<ensemble::v1::Acl>{ProtoAcl(31, "world", "anyone")};
  const auto digest = std::vector<ensemble::v1::Acl>{ProtoAcl(31, "digest", "user:base64hash="),
                                                     ProtoAcl(1, "ip", "10.0.0.0/8")};
  ensemble::v1::Op op;
  op.mutable_create_session()->set_timeout_ms(30000);
  add(kS1, -10, op);
  op.mutable_create_session()->set_timeout_ms(6000);
  add(kS2, -10, op);
  add(kS1, 1, create("/app", "config", 0, open));
  add(kS1, 1, create("/app/lock-", "", 3, open));
  add(kS2, 1, create("/app/eph", "e", 1, digest));
  add(kS1, 19, create("/jobs", "", 4, open));
  add(kS1, 1, create("/jobs/j1", "", 0, open));
  add(kS1, 21, create("/ttl", "t", 5, open, 60000));
  op.Clear();
  op.mutable_set_data()->set_path("/app");
  op.mutable_set_data()->set_data("config v2");
  op.mutable_set_data()->set_version(0);
  add(kS1, 5, op);
  op.Clear();
  op.mutable_set_acl()->set_path("/app");
  *op.mutable_set_acl()->add_acl() = ProtoAcl(31, "world", "anyone");
  *op.mutable_set_acl()->add_acl() = ProtoAcl(3, "ip", "127.0.0.1");
  op.mutable_set_acl()->set_version(-1);
  add(kS1, 7, op);
  op.Clear();
  auto* multi = op.mutable_multi();
  *multi->add_ops() = create("/m", "", 0, open);
  multi->add_ops()->mutable_check()->set_path("/m");
  auto* sd = multi->add_ops()->mutable_set_data();
  sd->set_path("/m");
  sd->set_data("x");
  sd->set_version(0);
  add(kS1, 14, op);
  op.Clear();
  multi = op.mutable_multi();
  *multi->add_ops() = create("/m2", "", 0, open);
  multi->add_ops()->mutable_delete_()->set_path("/does-not-exist");
  add(kS1, 14, op);
  op.Clear();
  op.mutable_delete_()->set_path("/jobs/j1");
  op.mutable_delete_()->set_version(-1);
  add(kS1, 2, op);
  op.Clear();
  op.mutable_delete_container()->set_path("/jobs");
  add(0, 20, op);
  op.Clear();
  op.mutable_noop();
  add(0, 0, op);
  op.Clear();
  op.mutable_close_session();
  add(kS2, -11, op);
  return out;
}

std::string SnapshotOf(const storage::StateMachine& sm, size_t chunk_bytes) {
  std::string out;
  storage::SnapshotWriter writer(
      [&out](absl::string_view b) {
        out.append(b.data(), b.size());
        return absl::OkStatus();
      },
      chunk_bytes);
  if (!writer.Write(sm).ok()) std::exit(1);
  return out;
}

void SnapshotSeeds() {
  const std::string target = "snapshot_reader_fuzz";
  storage::StateMachine empty;
  storage::StateMachine sm;
  const auto history = History();
  for (size_t i = 0; i < history.size(); ++i) {
    (void)sm.Apply(history[i]);
    if (i == 6) {
      // A state with both sessions and their ephemerals alive.
      Write(target, "mid_history_chunks64",
            Script().Byte(0).Byte(63).Bytes(SnapshotOf(sm, 64)).str());
    }
  }
  const std::string full = SnapshotOf(sm, 1 << 20);
  Write(target, "empty_tree", Script().Byte(0).Byte(0).Bytes(SnapshotOf(empty, 1 << 20)).str());
  Write(target, "full_history_one_chunk", Script().Byte(0).Byte(255).Bytes(full).str());
  Write(target, "full_history_chunks128_fixcrc",
        Script().Byte(1).Byte(7).Bytes(SnapshotOf(sm, 128)).str());
  Write(target, "truncated",
        Script().Byte(0).Byte(31).Bytes(full.substr(0, full.size() / 2)).str());
  std::string flipped = full;
  flipped[flipped.size() / 2] ^= 0x20;
  Write(target, "flipped_byte_fixcrc", Script().Byte(1).Byte(15).Bytes(flipped).str());
}

// ---------------------------------------------------------------------------
// txn_log_record_fuzz

std::string Record(const std::string& key, const std::string& value) {
  return Script()
      .Byte(static_cast<uint8_t>(key.size()))
      .Bytes(key)
      .U16(static_cast<uint16_t>(value.size()))
      .Bytes(value)
      .str();
}

void TxnLogSeeds() {
  const std::string target = "txn_log_record_fuzz";
  const auto history = History();
  std::string all;
  for (const auto& txn : history) {
    const std::string key = storage::EncodeTxnKey(txn.header().zxid());
    const std::string value = *storage::EncodeTxnValue(txn);
    all += Record(key, value);
    Write(target,
          "txn_" + std::to_string(txn.header().type()) + "_" +
              std::to_string(Zxid::Counter(txn.header().zxid())),
          Script().Byte(0).Bytes(Record(key, value)).str());
  }
  Write(target, "whole_history", Script().Byte(0).Bytes(all).str());
  Write(target, "whole_history_fixcrc", Script().Byte(1).Bytes(all).str());
  Write(target, "metadata",
        Script()
            .Byte(0)
            .Bytes(Record("m/accepted_epoch", storage::EncodeMetaInt64(3)))
            .Bytes(Record("m/format_version", storage::EncodeFormatVersion(1)))
            .Bytes(Record("m/purged_zxid", storage::EncodeMetaInt64(Zxid::Make(1, 2))))
            .str());
}

// ---------------------------------------------------------------------------
// zoo_cfg_fuzz

void ConfigSeeds() {
  const std::string target = "zoo_cfg_fuzz";
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(g_root / "common/config/testdata")) {
    files.push_back(entry.path());
  }
  if (fs::exists("/etc/zookeeper/conf_example/zoo.cfg")) {
    files.push_back("/etc/zookeeper/conf_example/zoo.cfg");
  }
  for (const auto& path : files) {
    const std::string text = ReadFile(path);
    const std::string name = path.string() == "/etc/zookeeper/conf_example/zoo.cfg"
                                 ? "debian_conf_example_zoo.cfg"
                                 : "testdata_" + path.filename().string();
    Write(target, name, text);
    auto parsed = config::ParseZooCfg(text, "zoo.cfg");
    if (parsed.ok()) Write(target, "rendered_" + name, config::ToZooCfg(*parsed));
  }
  Write(target, "quorum_groups_weights.cfg",
        "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/var/lib/zk\nclientPort=2181\n"
        "server.1=zk1:2888:3888\nserver.2=zk2:2888:3888;2181\n"
        "server.3=zk3:2888:3888:participant;0.0.0.0:2181\nserver.4=zk4:2888:3888:observer\n"
        "group.1=1:2\ngroup.2=3\nweight.1=2\nweight.2=1\nweight.3=1\n"
        "4lw.commands.whitelist=ruok, stat, mntr\nextendedTypesEnabled=true\n"
        "ensemble.myid=2\nzookeeper.snapshot.trust.empty=true\n");
  Write(target, "dynamic_and_overrides.cfg",
        "tickTime=1000\ndataDir=/data\nclientPort=2181\nreconfigEnabled=true\n"
        "standaloneEnabled=false\n"
        "#%dynamic\n"
        "server.1=[::1]:2888:3888;2181\nserver.2=127.0.0.2:2888:3888\nserver.3=h3:1:2:observer\n"
        "#%set\n"
        "tickTime=3000\nmaxSessionTimeout=90000\nensemble.logLevel=debug\nnope=1\n"
        "server.9=h:1:2\n");
  Write(target, "ensemble_keys.cfg",
        "dataDir=/d\ndataLogDir=/l\nensemble.storage.grpc=unix:/run/s.sock\n"
        "ensemble.replication.grpc=127.0.0.1:7001\nensemble.metrics.gateway=0.0.0.0:9101\n"
        "ensemble.sessionSecret=s3cret\nensemble.testing.initialZxidCounter=4294967290\n"
        "jute.maxbuffer=1048576\nautopurge.snapRetainCount=5\nautopurge.purgeInterval=1\n"
        "fastleader.minNotificationInterval=100\nforceSync=no\n"
        "DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=\n");

  // The dictionary: every typed key, and the syntax of server lines.
  std::string dict = "# Generated by fuzz_seed_gen: zoo.cfg keys and syntax.\n";
  auto entry = [&dict](const std::string& token) {
    std::string escaped;
    for (char c : token) {
      if (c == '"' || c == '\\') {
        escaped += '\\';
        escaped += c;
      } else if (c < 0x20 || c > 0x7e) {
        char hex[8];
        std::snprintf(hex, sizeof(hex), "\\x%02X", static_cast<unsigned char>(c));
        escaped += hex;
      } else {
        escaped += c;
      }
    }
    dict += "\"" + escaped + "\"\n";
  };
  for (std::string_view key : config::TypedKeyNames()) entry(std::string(key) + "=");
  for (const char* token : {"server.", "group.", "weight.", ":participant", ":observer", ";",
                            "#%dynamic\n", "#%set\n", "=yes", "=no", "=true", "=false", "[::1]",
                            "zookeeper.", "ssl.", "authProvider.", "metricsProvider."}) {
    entry(token);
  }
  fs::create_directories(g_root / "tests/fuzz/dicts");
  std::ofstream(g_root / "tests/fuzz/dicts/zoo_cfg_fuzz.dict", std::ios::trunc) << dict;
}

// ---------------------------------------------------------------------------
// zab_peer_fuzz

namespace rv1 = ensemble::replication::v1;
using namespace zab_cmd;

class ZabScript {
 public:
  explicit ZabScript(uint8_t setup) { s_.Byte(setup); }

  // A structured message from the peer at index `peer` (see Harness::Peer).
  struct Msg {
    rv1::PeerMessageType type = rv1::PEER_MESSAGE_TYPE_UNSPECIFIED;
    int zxid = -1, epoch = -1, prev = -1, commit = -1;  // ValueSel, -1: unset
    bool sync_echo = false, request_seq = false, uptodate = false;
    std::vector<uint8_t> txn_zsels;  // per txn: <0x40 next, <0x80 next epoch
    int snapshot_bytes = -1;
    std::vector<int64_t> known_sessions;
  };
  ZabScript& Step(int peer, const Msg& m) {
    s_.Byte(static_cast<uint8_t>((peer << 4) | kStepFields));
    s_.Byte(static_cast<uint8_t>(m.type));
    uint16_t mask = 0;
    if (m.zxid >= 0) mask |= 1 << 0;
    if (m.epoch >= 0) mask |= 1 << 1;
    if (m.prev >= 0) mask |= 1 << 2;
    if (m.commit >= 0) mask |= 1 << 3;
    if (m.sync_echo) mask |= 1 << 4;
    if (m.request_seq) mask |= 1 << 5;
    if (m.uptodate) mask |= 1 << 6;
    if (!m.txn_zsels.empty()) mask |= 1 << 7;
    if (!m.known_sessions.empty()) mask |= 1 << 9;
    if (m.snapshot_bytes >= 0) mask |= 1 << 10;
    s_.U16(mask);
    if (m.zxid >= 0) s_.Byte(static_cast<uint8_t>(m.zxid));
    if (m.epoch >= 0) s_.Byte(static_cast<uint8_t>(m.epoch));
    if (m.prev >= 0) s_.Byte(static_cast<uint8_t>(m.prev));
    if (m.commit >= 0) s_.Byte(static_cast<uint8_t>(m.commit));
    if (m.sync_echo) s_.Byte(0);
    if (m.request_seq) s_.Byte(1);
    if (!m.txn_zsels.empty()) {
      s_.Byte(static_cast<uint8_t>(m.txn_zsels.size() - 1));
      uint8_t kind = 1;
      for (uint8_t zsel : m.txn_zsels) {
        s_.Byte(zsel);
        s_.Byte(kind++ % 6);  // txn kind, session choice 0 (the preset session)
      }
    }
    if (!m.known_sessions.empty()) {
      s_.Byte(static_cast<uint8_t>(m.known_sessions.size()));
      for (size_t i = 0; i < m.known_sessions.size(); ++i) s_.Byte(0).U32(30000);
    }
    if (m.snapshot_bytes >= 0) {
      s_.Byte(static_cast<uint8_t>(m.snapshot_bytes)).Bytes(std::string(m.snapshot_bytes, 's'));
    }
    return *this;
  }
  ZabScript& Raw(int peer, const rv1::PeerMessage& m) {
    const std::string bytes = m.SerializeAsString();
    s_.Byte(static_cast<uint8_t>((peer << 4) | kStepRaw))
        .U16(static_cast<uint16_t>(bytes.size()))
        .Bytes(bytes);
    return *this;
  }
  ZabScript& Tick(int n) { return Op(kTick, n - 1); }
  ZabScript& Persist(int n) { return Op(kPersist, n - 1); }
  ZabScript& PersistAll() { return Op(kPersist, 15); }
  ZabScript& Apply() { return Op(kApply, 0); }
  ZabScript& Submit(int kind) {
    Op(kSubmit, kind);
    s_.Byte(0);
    return *this;
  }
  ZabScript& Sync() { return Op(kLocal, 1); }
  ZabScript& Touch() {
    Op(kLocal, 0);
    s_.Byte(0);
    return *this;
  }
  ZabScript& Purge() { return Op(kLocal, 2); }
  ZabScript& Disconnect(int peer) { return Op(kDisconnect, peer); }
  ZabScript& Elect(int choice) { return Op(kElection, choice); }
  const std::string& str() const { return s_.str(); }

 private:
  ZabScript& Op(uint8_t kind, int arg) {
    s_.Byte(static_cast<uint8_t>((arg << 4) | kind));
    return *this;
  }
  Script s_;
};

using Msg = ZabScript::Msg;

// A message with the given selectors (-1: field unset).
Msg M(rv1::PeerMessageType type, int zxid = -1, int epoch = -1, int prev = -1, int commit = -1) {
  Msg m;
  m.type = type;
  m.zxid = zxid;
  m.epoch = epoch;
  m.prev = prev;
  m.commit = commit;
  return m;
}

// The leader's side of a learner joining: info, ack of the epoch, ack of NEWLEADER.
void LearnerJoins(ZabScript& z, int peer, bool observer) {
  z.Step(peer,
         M(observer ? rv1::PEER_MESSAGE_TYPE_OBSERVERINFO : rv1::PEER_MESSAGE_TYPE_FOLLOWERINFO,
           kZero, kZero));
  z.Step(peer, M(rv1::PEER_MESSAGE_TYPE_ACKEPOCH, kZero, kZero));
  z.Step(peer, M(rv1::PEER_MESSAGE_TYPE_ACK, kLast, kEpoch));
}

// A leader's side of syncing us (follower/observer): LEADERINFO, then a sync
// mode, history, NEWLEADER and UPTODATE.
void LeaderSyncs(ZabScript& z, int leader, rv1::PeerMessageType mode, int mode_zxid,
                 rv1::PeerMessageType broadcast) {
  z.Step(leader, M(rv1::PEER_MESSAGE_TYPE_LEADERINFO, -1, kAcceptedEpochPlus1));
  Msg sync = M(mode, mode_zxid);
  if (mode == rv1::PEER_MESSAGE_TYPE_SNAP) {
    sync.snapshot_bytes = 40;
    sync.known_sessions = {1};
  }
  z.Step(leader, sync);
  Msg history = M(rv1::PEER_MESSAGE_TYPE_PROPOSAL, -1, -1, kLast);
  history.txn_zsels = {0x40, 0x00};
  z.Step(leader, history);
  z.Step(leader, M(rv1::PEER_MESSAGE_TYPE_NEWLEADER, kLast, kAcceptedEpoch));
  z.Step(leader, M(rv1::PEER_MESSAGE_TYPE_UPTODATE, kLast));
  Msg more = M(broadcast, -1, -1, kLast);
  more.txn_zsels = {0x00, 0x00, 0x00};
  z.Step(leader, more);
  z.Step(leader, M(rv1::PEER_MESSAGE_TYPE_COMMIT, kLast));
  Msg ping = M(rv1::PEER_MESSAGE_TYPE_PING, kLast, -1, -1, kLast);
  ping.sync_echo = true;
  z.Step(leader, ping);
}

void ZabSeeds() {
  const std::string target = "zab_peer_fuzz";
  for (int disk = 0; disk < 4; ++disk) {
    // Leader: 2 and 3 follow, 4 observes; writes, acks, pings, syncs, requests.
    ZabScript leader(static_cast<uint8_t>(kScenarioLeader | (disk << 2)));
    LearnerJoins(leader, 0, false);
    leader.Submit(1).Submit(0);
    leader.Step(0, M(rv1::PEER_MESSAGE_TYPE_ACK, kLast, kEpoch));
    Msg ping = M(rv1::PEER_MESSAGE_TYPE_PING, kLast);
    ping.sync_echo = true;
    leader.Tick(1).Step(0, ping).Sync().Step(0, ping);
    LearnerJoins(leader, 1, false);
    LearnerJoins(leader, 2, true);
    Msg request = M(rv1::PEER_MESSAGE_TYPE_REQUEST);
    request.request_seq = true;
    request.txn_zsels = {0, 0};
    leader.Step(0, request).Step(1, M(rv1::PEER_MESSAGE_TYPE_ACK, kLast, kEpoch));
    Msg sync = M(rv1::PEER_MESSAGE_TYPE_SYNC);
    sync.sync_echo = true;
    leader.Step(1, sync).Tick(2).Step(0, ping).Step(1, ping).Touch().Purge().Tick(6);
    Write(target, "leader_disk" + std::to_string(disk), leader.str());

    // Follower of 2: DIFF (or TRUNC to the committed zxid), history, broadcast.
    ZabScript follower(static_cast<uint8_t>(kScenarioFollower | (disk << 2)));
    LeaderSyncs(follower, 0, disk == 0 ? rv1::PEER_MESSAGE_TYPE_DIFF : rv1::PEER_MESSAGE_TYPE_TRUNC,
                disk == 0 ? kLast : kCommitted, rv1::PEER_MESSAGE_TYPE_PROPOSAL);
    follower.Submit(1).Sync();
    Msg reply = M(rv1::PEER_MESSAGE_TYPE_SYNC, kCommitted);
    reply.sync_echo = true;
    follower.Step(0, reply).Tick(3).Disconnect(0).Elect(2);
    Write(target, "follower_disk" + std::to_string(disk), follower.str());

    // Observer of 2: SNAP, INFORMs.
    ZabScript observer(static_cast<uint8_t>(kScenarioObserver | (disk << 2)));
    LeaderSyncs(observer, 1, rv1::PEER_MESSAGE_TYPE_SNAP, kCommitted,
                rv1::PEER_MESSAGE_TYPE_INFORM);
    observer.Tick(9);
    Write(target, "observer_disk" + std::to_string(disk), observer.str());
  }

  // The disk lags: persists and applies only when the script says so.
  ZabScript lazy(kScenarioLeader | (1 << 2) | kSetupLazyDisk);
  lazy.Step(0, M(rv1::PEER_MESSAGE_TYPE_FOLLOWERINFO, kZero, kZero)).Persist(1);
  lazy.Step(0, M(rv1::PEER_MESSAGE_TYPE_ACKEPOCH, kZero, kZero)).Persist(1);
  lazy.Step(0, M(rv1::PEER_MESSAGE_TYPE_ACK, kLast, kEpoch)).PersistAll().Apply();
  lazy.Submit(1)
      .Submit(2)
      .Step(0, M(rv1::PEER_MESSAGE_TYPE_ACK, kLast, kEpoch))
      .PersistAll()
      .Apply();
  Write(target, "leader_lazy_disk", lazy.str());

  // The zxid counter runs out: the epoch changes in place.
  ZabScript rollover(kScenarioLeader | kSetupRollover);
  LearnerJoins(rollover, 0, false);
  LearnerJoins(rollover, 1, false);
  for (int i = 0; i < 5; ++i) rollover.Submit(1);
  rollover.Step(0, M(rv1::PEER_MESSAGE_TYPE_ACKEPOCH, kLast, kCurrentEpoch));
  rollover.Step(0, M(rv1::PEER_MESSAGE_TYPE_ACK, kLast, kAcceptedEpoch));
  rollover.Step(1, M(rv1::PEER_MESSAGE_TYPE_ACK, kLast, kEpoch));
  Write(target, "leader_rollover", rollover.str());

  // Raw PeerMessages (protobuf bytes) for a follower of 3; conn is filled in.
  ZabScript raw(kScenarioFollowerOf3);
  rv1::PeerMessage m;
  m.set_type(rv1::PEER_MESSAGE_TYPE_LEADERINFO);
  m.set_epoch(1);
  m.set_sid(3);
  raw.Raw(1, m);
  m.Clear();
  m.set_type(rv1::PEER_MESSAGE_TYPE_DIFF);
  m.set_sid(3);
  raw.Raw(1, m);
  m.Clear();
  m.set_type(rv1::PEER_MESSAGE_TYPE_PROPOSAL);
  m.set_sid(3);
  m.set_prev_zxid(0);
  for (int c = 1; c <= 2; ++c) {
    auto* txn = m.add_txns();
    txn->mutable_header()->set_zxid(Zxid::Make(1, c));
    txn->mutable_header()->set_type(1);
    txn->mutable_op()->mutable_create()->set_path("/raw" + std::to_string(c));
  }
  m.set_zxid(Zxid::Make(1, 2));
  raw.Raw(1, m);
  m.Clear();
  m.set_type(rv1::PEER_MESSAGE_TYPE_NEWLEADER);
  m.set_sid(3);
  m.set_epoch(1);
  m.set_zxid(Zxid::Make(1, 2));
  raw.Raw(1, m);
  m.Clear();
  m.set_type(rv1::PEER_MESSAGE_TYPE_UPTODATE);
  m.set_sid(3);
  m.set_zxid(Zxid::Make(1, 2));
  raw.Raw(1, m);
  m.Clear();
  m.set_type(rv1::PEER_MESSAGE_TYPE_PING);
  m.set_sid(3);
  m.set_zxid(Zxid::Make(1, 2));
  m.set_commit_zxid(Zxid::Make(1, 2));
  m.set_uptodate(true);
  raw.Raw(1, m);
  Write(target, "follower_of_3_raw", raw.str());
}

// ---------------------------------------------------------------------------
// fle_fuzz

class FleScript {
 public:
  FleScript(uint8_t setup, uint8_t state) { s_.Byte(setup).Byte(state); }
  // Field selectors as in fle_fuzz.cc: Leader(b), ZxidValue, RoundValue,
  // EpochValue (0: ours / the local value), state 1..4.
  FleScript& Step(int from, uint8_t leader, uint8_t zxid, uint8_t round, uint8_t epoch,
                  uint8_t state, uint8_t kind = fle_cmd::kStep) {
    s_.Byte(static_cast<uint8_t>((from << 3) | kind))
        .Byte(leader)
        .Byte(zxid)
        .Byte(round)
        .Byte(epoch)
        .Byte(state);
    return *this;
  }
  FleScript& Status(int from, uint8_t leader, uint8_t state) {
    return Step(from, leader, 0, 0, 0, state, fle_cmd::kStatus);
  }
  FleScript& Batch(const ensemble::election::v1::Notifications& batch, bool force_sid, int from) {
    const std::string bytes = batch.SerializeAsString();
    const int arg = (force_sid ? 1 : 0) | (from << 1);
    s_.Byte(static_cast<uint8_t>((arg << 3) | fle_cmd::kBatchRaw))
        .U16(static_cast<uint16_t>(bytes.size()))
        .Bytes(bytes);
    return *this;
  }
  FleScript& Tick(int n) { return Op(fle_cmd::kTick, n - 1); }
  FleScript& Disconnect(int from) { return Op(fle_cmd::kDisconnect, from); }
  FleScript& Restart(bool abandon) { return Op(fle_cmd::kRestart, abandon ? 1 : 0); }
  const std::string& str() const { return s_.str(); }

 private:
  FleScript& Op(uint8_t kind, int arg) {
    s_.Byte(static_cast<uint8_t>((arg << 3) | kind));
    return *this;
  }
  Script s_;
};

void FleSeeds() {
  const std::string target = "fle_fuzz";
  // Leader(b): 0 self, 1 + (i << 3) voter i, 2 our proposal, 3 observer.
  constexpr uint8_t kLooking = 1, kFollowing = 2, kLeading = 3, kObserving = 4;
  const uint8_t voter3 = 1 | (2 << 3);
  // Self 1 of 3: 2 and 3 vote for 3 in our round; we adopt it and follow 3.
  Write(target, "voter_follows_3",
        FleScript(0, 5)
            .Step(0, voter3, 0, 0, 0, kLooking)
            .Step(1, voter3, 0, 0, 0, kLooking)
            .Tick(5)
            .Step(0, voter3, 0, 0, 0, kLooking)
            .Status(1, voter3, kLeading)
            .str());
  // Self 1 of 3 elects itself: the others vote for us.
  Write(target, "voter_leads",
        FleScript(16, 9)
            .Step(0, 0, 0, 0, 0, kLooking)
            .Step(1, 0, 0, 0, 0, kLooking)
            .Tick(2)
            .Status(0, 0, kFollowing)
            .Status(1, 0, kFollowing)
            .Tick(3)
            .str());
  // A restarted peer joins a running leader (3) through outofelection.
  Write(target, "join_running_leader",
        FleScript(8, 2)
            .Step(1, voter3, 0, 3, 0, kLeading)
            .Step(0, voter3, 0, 3, 0, kFollowing)
            .Tick(25)
            .Status(1, voter3, kLeading)
            .Tick(25)
            .Restart(false)
            .Step(0, voter3, 0, 0, 0, kLooking)
            .str());
  // An observer learns the leader.
  Write(target, "observer_learns",
        FleScript(3, 1)
            .Step(0, voter3, 0, 0, 0, kLooking)
            .Step(1, voter3, 0, 0, 0, kFollowing)
            .Step(2, voter3, 0, 0, 0, kLeading)
            .Step(3, 2, 0, 0, 0, kObserving)
            .Tick(10)
            .Disconnect(2)
            .str());
  // Five voters, failure detector on: decide, then the leader falls silent.
  const uint8_t voter5 = 1 | (4 << 3);
  Write(target, "five_voters_leader_silent",
        FleScript(4 | 8 | 1, 6)
            .Step(0, voter5, 0, 0, 0, kLooking)
            .Step(2, voter5, 0, 0, 0, kLooking)
            .Step(3, voter5, 0, 0, 0, kLooking)
            .Tick(5)
            .Status(3, voter5, kLeading)
            .Tick(30)
            .Step(1, voter5, 0, 1, 0, kLooking)
            .Restart(true)
            .str());
  // Rounds apart: an old round, a later round, a decided one.
  Write(target, "rounds",
        FleScript(2, 4)
            .Step(0, 1, 0, 2, 0, kLooking)
            .Step(0, 1, 0, 3, 0, kLooking)
            .Step(1, voter3, 2, 1, 2, kFollowing)
            .Step(1, voter3, 2, 3, 2, kLeading)
            .Tick(8)
            .str());
  // Raw Notify batches as the wire carries them.
  ensemble::election::v1::Notifications batch;
  batch.set_sid(2);
  auto* n = batch.add_notifications();
  n->set_sid(2);
  n->set_leader(3);
  n->set_zxid(Zxid::Make(1, 3));
  n->set_election_epoch(1);
  n->set_peer_epoch(1);
  n->set_state(ensemble::election::v1::PEER_STATE_LOOKING);
  *batch.add_notifications() = *n;
  batch.mutable_notifications(1)->set_election_epoch(2);
  *batch.mutable_status() = *n;
  ensemble::election::v1::Notifications leading = batch;
  leading.set_sid(3);
  for (auto& x : *leading.mutable_notifications()) {
    x.set_sid(3);
    x.set_state(ensemble::election::v1::PEER_STATE_LEADING);
  }
  leading.mutable_status()->set_sid(3);
  leading.mutable_status()->set_state(ensemble::election::v1::PEER_STATE_LEADING);
  Write(target, "raw_batches",
        FleScript(0, 5)
            .Batch(batch, false, 0)
            .Batch(leading, false, 0)
            .Batch(batch, true, 1)
            .Tick(5)
            .str());
}

}  // namespace
}  // namespace ensemble::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seed_gen <repo root>\n";
    return 2;
  }
  ensemble::fuzz::g_root = argv[1];
  ensemble::fuzz::GatewaySeeds();
  ensemble::fuzz::SnapshotSeeds();
  ensemble::fuzz::TxnLogSeeds();
  ensemble::fuzz::ConfigSeeds();
  ensemble::fuzz::ZabSeeds();
  ensemble::fuzz::FleSeeds();
  std::cout << "seed corpora written under " << (ensemble::fuzz::g_root / "tests/fuzz/corpus")
            << "\n";
  return 0;
}
