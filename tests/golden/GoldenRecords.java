// Serializes every client-protocol record with ZooKeeper's own classes
// (org.apache.zookeeper.proto/data records, MultiOperationRecord, MultiResponse and
// org.apache.jute.BinaryOutputArchive) and writes one line per record:
//
//   <name> <lowercase hex of the bytes>
//
// jute_golden_test.cc builds the same records with Ensemble's codec and compares.
// The field values here and in the C++ test must stay in step.
//
// Usage: java -cp zookeeper-jute.jar:zookeeper.jar:. GoldenRecords <output file>

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import org.apache.jute.BinaryOutputArchive;
import org.apache.jute.Record;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.MultiOperationRecord;
import org.apache.zookeeper.MultiResponse;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.proto.*;

public final class GoldenRecords {
  // ---- fixed values shared with jute_golden_test.cc ----
  static final String PATH = "/ensemble/golden";
  // "/ensemble/ünï/日本" as UTF-8 on the wire.
  static final String UNICODE_PATH = "/ensemble/\u00fcn\u00ef/\u65e5\u672c";
  static final byte[] DATA = {0, 1, 2, (byte) 0xff, (byte) 0x80, 'a'};
  static final byte[] PASSWD = {
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
    0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, (byte) 0xff
  };

  static Stat stat() {
    return new Stat(
        0x100000001L, // czxid
        0x200000002L, // mzxid
        1700000000123L, // ctime
        1700000000456L, // mtime
        7, // version
        3, // cversion
        1, // aversion
        0x8123456789abcdefL, // ephemeralOwner (negative as a signed long)
        6, // dataLength
        2, // numChildren
        0x300000003L); // pzxid
  }

  static List<ACL> acls() {
    return Arrays.asList(
        new ACL(ZooDefs.Perms.ALL, new Id("world", "anyone")),
        new ACL(ZooDefs.Perms.READ, new Id("digest", "user:SHA1hash=")),
        new ACL(ZooDefs.Perms.READ | ZooDefs.Perms.CREATE, new Id("ip", "10.0.0.0/8")));
  }

  // ---- output ----
  private final List<String> lines = new ArrayList<>();

  interface Body {
    void write(BinaryOutputArchive a) throws IOException;
  }

  void emitRaw(String name, Body body) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryOutputArchive a = BinaryOutputArchive.getArchive(out);
    body.write(a);
    lines.add(name + " " + hex(out.toByteArray()));
  }

  void emit(String name, Record r) throws IOException {
    emitRaw(name, a -> r.serialize(a, name));
  }

  // A whole frame: 4-byte length, then the body (ClientCnxn.Packet.createBB,
  // ServerCnxn.serializeRecord).
  void emitFrame(String name, Body body) throws IOException {
    ByteArrayOutputStream payload = new ByteArrayOutputStream();
    body.write(BinaryOutputArchive.getArchive(payload));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryOutputArchive a = BinaryOutputArchive.getArchive(out);
    a.writeInt(payload.size(), "len");
    out.write(payload.toByteArray());
    lines.add(name + " " + hex(out.toByteArray()));
  }

  static String hex(byte[] b) {
    StringBuilder sb = new StringBuilder();
    for (byte x : b) {
      sb.append(String.format("%02x", x & 0xff));
    }
    return sb.toString();
  }

  void run() throws IOException {
    // data
    emit("Id", new Id("digest", "user:SHA1hash="));
    emit("ACL", new ACL(ZooDefs.Perms.READ | ZooDefs.Perms.WRITE, new Id("world", "anyone")));
    emit("Stat", stat());
    emit("ClientInfo", new ClientInfo("digest", "alice"));

    // session: ClientCnxn.primeConnection writes ConnectRequest then readOnly.
    ConnectRequest connect = new ConnectRequest(0, 0x500000007L, 30000, 0x1234567890abcdefL, PASSWD);
    emitRaw("ConnectRequest", a -> {
      connect.serialize(a, "connect");
      a.writeBool(true, "readOnly");
    });
    emit("ConnectRequestNoReadOnly", connect);
    ConnectResponse connected = new ConnectResponse(0, 20000, 0x1234567890abcdefL, PASSWD);
    emitRaw("ConnectResponse", a -> {
      connected.serialize(a, "connect");
      a.writeBool(false, "readOnly");
    });
    emit("ConnectResponseNoReadOnly", connected);
    emitFrame("Frame.ConnectRequest", a -> {
      connect.serialize(a, "connect");
      a.writeBool(false, "readOnly");
    });

    emit("RequestHeader", new RequestHeader(42, ZooDefs.OpCode.getData));
    emit("ReplyHeader", new ReplyHeader(42, 0x400000009L, -101));
    emit("MultiHeader", new MultiHeader(ZooDefs.OpCode.setData, false, -1));
    emit("AuthPacket", new AuthPacket(0, "digest", "alice:secret".getBytes(StandardCharsets.UTF_8)));
    emit("WatcherEvent", new WatcherEvent(3, 3, UNICODE_PATH));
    emit("SetWatches", new SetWatches(0x600000001L,
        Arrays.asList("/a", "/b"), Arrays.asList("/c"), Collections.emptyList()));
    emit("SetWatches2", new SetWatches2(0x600000002L,
        Arrays.asList("/a"), Collections.emptyList(), Arrays.asList("/c", "/d"),
        Arrays.asList("/p"), Arrays.asList("/r", UNICODE_PATH)));

    // requests
    emit("CreateRequest", new CreateRequest(PATH, DATA, acls(), 3));
    emit("CreateRequestNullData", new CreateRequest(PATH, null, acls(), 0));
    emit("CreateTTLRequest", new CreateTTLRequest(PATH, DATA, acls(), 5, 86400000L));
    emit("DeleteRequest", new DeleteRequest(PATH, -1));
    emit("ExistsRequest", new ExistsRequest(PATH, true));
    emit("GetDataRequest", new GetDataRequest(UNICODE_PATH, false));
    emit("GetConfigRequest", new GetDataRequest(ZooDefs.CONFIG_NODE, true));
    emit("SetDataRequest", new SetDataRequest(PATH, DATA, 7));
    emit("GetACLRequest", new GetACLRequest(PATH));
    emit("SetACLRequest", new SetACLRequest(PATH, acls(), 2));
    emit("GetChildrenRequest", new GetChildrenRequest(PATH, true));
    emit("GetChildren2Request", new GetChildren2Request(PATH, false));
    emit("GetAllChildrenNumberRequest", new GetAllChildrenNumberRequest(PATH));
    emit("GetEphemeralsRequest", new GetEphemeralsRequest("/ens"));
    emit("SyncRequest", new SyncRequest(PATH));
    emit("CheckVersionRequest", new CheckVersionRequest(PATH, 9));
    emit("AddWatchRequest", new AddWatchRequest(PATH, ZooDefs.AddWatchModes.persistentRecursive));
    emit("CheckWatchesRequest", new CheckWatchesRequest(PATH, 2));
    emit("RemoveWatchesRequest", new RemoveWatchesRequest(PATH, 3));
    emit("ReconfigRequest", new ReconfigRequest("server.4=h4:2888:3888;2181", null, null, -1L));
    emit("ReconfigRequestAll", new ReconfigRequest("", "2,3", "server.1=h1:2888:3888", 0x700000000L));
    emit("GetSASLRequest", new GetSASLRequest(DATA));
    emit("SetSASLRequest", new SetSASLRequest(new byte[0]));

    // responses
    emit("CreateResponse", new CreateResponse(PATH + "0000000001"));
    emit("Create2Response", new Create2Response(PATH, stat()));
    emit("ExistsResponse", new ExistsResponse(stat()));
    emit("GetDataResponse", new GetDataResponse(DATA, stat()));
    emit("GetDataResponseNullData", new GetDataResponse(null, stat()));
    emit("SetDataResponse", new SetDataResponse(stat()));
    emit("GetACLResponse", new GetACLResponse(acls(), stat()));
    emit("SetACLResponse", new SetACLResponse(stat()));
    emit("GetChildrenResponse", new GetChildrenResponse(Arrays.asList("a", "b", UNICODE_PATH)));
    emit("GetChildrenResponseEmpty", new GetChildrenResponse(Collections.emptyList()));
    emit("GetChildren2Response", new GetChildren2Response(Arrays.asList("x"), stat()));
    emit("GetAllChildrenNumberResponse", new GetAllChildrenNumberResponse(12345));
    emit("GetEphemeralsResponse", new GetEphemeralsResponse(Arrays.asList("/ens/e1", "/ens/e2")));
    emit("SyncResponse", new SyncResponse(PATH));
    emit("SetSASLResponse", new SetSASLResponse(DATA));
    emit("SetSASLResponseNull", new SetSASLResponse(null));
    emit("WhoAmIResponse", new WhoAmIResponse(Arrays.asList(
        new ClientInfo("ip", "127.0.0.1"), new ClientInfo("digest", "alice"))));
    emit("ErrorResponse", new ErrorResponse(-110));

    // multi: ZooKeeper's own MultiOperationRecord and MultiResponse.
    emit("MultiRequest", new MultiOperationRecord(Arrays.asList(
        Op.create(PATH, DATA, acls(), CreateMode.PERSISTENT_SEQUENTIAL),
        Op.create(PATH + "/c", null, acls(), CreateMode.CONTAINER),
        Op.create(PATH + "/t", DATA, acls(), CreateMode.PERSISTENT_WITH_TTL, 60000L),
        Op.delete(PATH + "/d", 4),
        Op.setData(PATH, DATA, -1),
        Op.check(PATH, 7))));
    emit("MultiReadRequest", new MultiOperationRecord(Arrays.asList(
        Op.getChildren(PATH), Op.getData(UNICODE_PATH))));
    emit("MultiRequestEmpty", new MultiOperationRecord());
    MultiResponse multi = new MultiResponse();
    multi.add(new OpResult.CreateResult(PATH + "0000000001"));
    multi.add(new OpResult.CreateResult(PATH + "/c", stat()));
    multi.add(new OpResult.DeleteResult());
    multi.add(new OpResult.SetDataResult(stat()));
    multi.add(new OpResult.CheckResult());
    emit("MultiResponse", multi);
    MultiResponse failed = new MultiResponse();
    failed.add(new OpResult.ErrorResult(0));
    failed.add(new OpResult.ErrorResult(-101));
    failed.add(new OpResult.ErrorResult(-2));
    emit("MultiResponseFailed", failed);
    MultiResponse read = new MultiResponse();
    read.add(new OpResult.GetChildrenResult(Arrays.asList("a", "b")));
    read.add(new OpResult.GetDataResult(DATA, stat()));
    read.add(new OpResult.ErrorResult(-101));
    emit("MultiReadResponse", read);

    // whole frames as ClientCnxn and ServerCnxn send them.
    emitFrame("Frame.Ping", a -> new RequestHeader(-2, ZooDefs.OpCode.ping).serialize(a, "header"));
    emitFrame("Frame.CloseSession", a -> new RequestHeader(7, ZooDefs.OpCode.closeSession).serialize(a, "header"));
    emitFrame("Frame.GetData", a -> {
      new RequestHeader(5, ZooDefs.OpCode.getData).serialize(a, "header");
      new GetDataRequest(PATH, true).serialize(a, "request");
    });
    emitFrame("Frame.Create2", a -> {
      new RequestHeader(6, ZooDefs.OpCode.create2).serialize(a, "header");
      new CreateRequest(PATH, DATA, acls(), 1).serialize(a, "request");
    });
    emitFrame("Frame.SetWatches", a -> {
      new RequestHeader(-8, ZooDefs.OpCode.setWatches).serialize(a, "header");
      new SetWatches(0x600000001L, Arrays.asList("/a"), Arrays.asList("/b"), Arrays.asList("/c"))
          .serialize(a, "request");
    });
    emitFrame("Frame.Auth", a -> {
      new RequestHeader(-4, ZooDefs.OpCode.auth).serialize(a, "header");
      new AuthPacket(0, "digest", "alice:secret".getBytes(StandardCharsets.UTF_8)).serialize(a, "request");
    });
    emitFrame("Frame.GetDataReply", a -> {
      new ReplyHeader(5, 0x400000009L, 0).serialize(a, "header");
      new GetDataResponse(DATA, stat()).serialize(a, "response");
    });
    emitFrame("Frame.NoNodeReply", a -> new ReplyHeader(5, 0x400000009L, -101).serialize(a, "header"));
    emitFrame("Frame.Notification", a -> {
      new ReplyHeader(-1, -1L, 0).serialize(a, "header");
      new WatcherEvent(4, 3, PATH).serialize(a, "response");
    });
    emitFrame("Frame.ConnectResponse", a -> {
      connected.serialize(a, "connect");
      a.writeBool(true, "readOnly");
    });
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: GoldenRecords <output file>");
      System.exit(2);
    }
    GoldenRecords g = new GoldenRecords();
    g.run();
    try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(Paths.get(args[0]), StandardCharsets.UTF_8))) {
      for (String line : g.lines) {
        w.println(line);
      }
    }
  }
}
