#include "daemon/snapshots/snapshot_store.h"

#include <catch2/catch.hpp>

#include "snapshot_fixture.h"

#include "daemon/snapshots/local_snapshot.h"

namespace skydeck::snapshots {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<BlobProgress> Upload(SnapshotStore& store, const std::string& content,
                                    size_t chunk = 3) {
  std::string sha = Sha256Hex(content);
  BlobProgress p;
  while (!p.complete) {
    std::string piece = content.substr(static_cast<size_t>(p.next_offset), chunk);
    absl::StatusOr<BlobProgress> next =
        store.PutBlobChunk(sha, static_cast<int64_t>(content.size()), p.next_offset, piece);
    if (!next.ok()) return next;
    p = *next;
  }
  return p;
}

TEST_CASE("a snapshot is stored once its contents are uploaded", "[snapshots]") {
  StoreFixture f;
  CodeManifest m;
  m.entries = {EntryFor("train.py", "print(1)\n"), EntryFor("a/b.py", "x"),
               EntryFor("same.py", "x")};  // one content, two paths
  absl::StatusOr<PutResult> first = f.store->Put(m, "workdir /p");
  REQUIRE(first.ok());
  std::vector<std::string> want = {Sha256Hex("print(1)\n"), Sha256Hex("x")};
  std::sort(want.begin(), want.end());
  CHECK(first->missing == want);  // sorted, each content once
  CHECK(first->snapshot.file_count == 3);
  CHECK(first->snapshot.size_bytes == 11);
  CHECK(absl::IsNotFound(f.store->Get(first->snapshot.id).status()));  // not stored yet

  REQUIRE(Upload(*f.store, "print(1)\n").ok());
  REQUIRE(Upload(*f.store, "x").ok());
  absl::StatusOr<PutResult> second = f.store->Put(m, "workdir /p");
  REQUIRE(second.ok());
  CHECK(second->missing.empty());
  CHECK(second->snapshot.id == first->snapshot.id);
  // The id does not depend on the order the client listed the files in.
  SortManifest(m);
  CHECK(second->snapshot.id == ManifestId(m));
  absl::StatusOr<StoredSnapshot> got = f.store->Get(second->snapshot.id);
  REQUIRE(got.ok());
  CHECK(got->file_count == 3);
  absl::StatusOr<CodeManifest> back = f.store->Manifest(got->id);
  REQUIRE(back.ok());
  CHECK(*back == m);
  // Stored once: two blobs, one tree.
  int blobs = 0;
  for (auto& e : fs::recursive_directory_iterator(f.Dir() + "/blobs")) blobs += e.is_regular_file();
  CHECK(blobs == 2);
  CHECK(absl::IsInvalidArgument(f.store->Get("nothex").status()));
}

TEST_CASE("content uploads resume, check their digest and are bounded", "[snapshots]") {
  StoreFixture f;
  std::string content = "0123456789";
  std::string sha = Sha256Hex(content);
  absl::StatusOr<BlobProgress> p = f.store->PutBlobChunk(sha, 10, 0, "0123");
  REQUIRE(p.ok());
  CHECK(p->next_offset == 4);
  CHECK_FALSE(p->complete);
  // A chunk at the wrong offset (a retry after a lost answer) is not
  // written; the answer says where to continue.
  p = f.store->PutBlobChunk(sha, 10, 2, "23456");
  REQUIRE(p.ok());
  CHECK(p->next_offset == 4);
  p = f.store->PutBlobChunk(sha, 10, 4, "456789");
  REQUIRE(p.ok());
  CHECK(p->complete);
  CHECK(f.store->HasBlob(sha));
  // Again: already complete.
  p = f.store->PutBlobChunk(sha, 10, 0, "");
  REQUIRE(p.ok());
  CHECK(p->complete);

  // A content that does not match its digest is dropped.
  std::string wrong = Sha256Hex("something else");
  REQUIRE(f.store->PutBlobChunk(wrong, 3, 0, "abc").status().code() == absl::StatusCode::kDataLoss);
  CHECK_FALSE(f.store->HasBlob(wrong));
  absl::StatusOr<BlobProgress> restart = f.store->PutBlobChunk(wrong, 3, 0, "");
  REQUIRE(restart.ok());
  CHECK(restart->next_offset == 0);

  CHECK(absl::IsInvalidArgument(f.store->PutBlobChunk("zz", 1, 0, "a").status()));
  CHECK(absl::IsInvalidArgument(f.store->PutBlobChunk(sha, 2, 1, "abc").status()));  // past end
  CHECK(absl::IsInvalidArgument(
      f.store->PutBlobChunk(Sha256Hex("big"), int64_t{200} << 20, 0, "").status()));
  CHECK(absl::IsInvalidArgument(
      f.store->PutBlobChunk(Sha256Hex("c"), 2 << 20, 0, std::string((1 << 20) + 1, 'c')).status()));
  // An empty content is a content too.
  REQUIRE(Upload(*f.store, "").ok());
  CHECK(f.store->HasBlob(Sha256Hex("")));
}

TEST_CASE("partial uploads in progress are bounded", "[snapshots]") {
  SnapshotLimits limits;
  limits.max_bytes = 100;
  StoreFixture f(limits);
  for (int i = 0; i < 4; ++i) {
    REQUIRE(f.store->PutBlobChunk(Sha256Hex(std::to_string(i)), 100, 0, std::string(99, 'a')).ok());
  }
  absl::Status full = f.store->PutBlobChunk(Sha256Hex("more"), 100, 0, "a").status();
  CHECK(absl::IsResourceExhausted(full));
}

TEST_CASE("the store refuses bad manifests and symlinks that leave the snapshot", "[snapshots]") {
  SnapshotLimits limits;
  limits.max_bytes = 10;
  StoreFixture f(limits);
  CodeManifest big;
  big.entries = {EntryFor("big.bin", std::string(11, 'b'))};
  absl::Status s = f.store->Put(big, "workdir /p").status();
  CHECK(absl::IsInvalidArgument(s));
  CHECK(s.message().find("big.bin 11 B") != absl::string_view::npos);

  CodeManifest link;
  link.entries = {EntryFor("l", "../../etc", CodeEntryKind::kSymlink)};
  REQUIRE(f.store->PutBlobData(Sha256Hex("../../etc"), "../../etc").ok());
  absl::Status escaped = f.store->Put(link, "workdir /p").status();
  CHECK(absl::IsInvalidArgument(escaped));
  CHECK(escaped.message().find("leaves the snapshot") != absl::string_view::npos);
  CHECK(f.store->PutBlobData(Sha256Hex("a"), "b").code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("collection keeps what is referenced or recently used", "[snapshots]") {
  StoreFixture f;
  f.data.Write("keep/a.py", "shared");
  f.data.Write("keep/b.py", "only in keep");
  f.data.Write("drop/a.py", "shared");
  f.data.Write("drop/c.py", "only in drop");
  auto snap = [&](const char* dir) {
    absl::StatusOr<LocalSnapshot> s =
        SnapshotLocalPath(*f.store, (f.data.path / dir).string(), dir);
    REQUIRE(s.ok());
    return s->snapshot.id;
  };
  std::string keep = snap("keep"), drop = snap("drop");
  REQUIRE(keep != drop);
  // Everything is fresh: nothing goes, referenced or not.
  absl::StatusOr<CollectResult> fresh = f.store->Collect({keep}, absl::Now() - absl::Hours(1));
  REQUIRE(fresh.ok());
  CHECK(fresh->trees + fresh->blobs == 0);

  // Old: the unreferenced tree and the content only it held go; the
  // shared content stays (keep holds it), referenced or not.
  for (auto& e : fs::recursive_directory_iterator(f.Dir())) Age(e.path().string(), 7200);
  // A partial upload abandoned long ago goes too.
  REQUIRE(f.store->PutBlobChunk(Sha256Hex("partial!"), 8, 0, "part").ok());
  Age(f.Dir() + "/incoming/" + Sha256Hex("partial!") + ".part", 7200);
  absl::StatusOr<CollectResult> old = f.store->Collect({keep}, absl::Now() - absl::Hours(1));
  REQUIRE(old.ok());
  CHECK(old->trees == 1);
  CHECK(old->blobs == 1);
  CHECK(old->partials == 1);
  CHECK(f.store->Get(keep).ok());
  CHECK(absl::IsNotFound(f.store->Get(drop).status()));
  CHECK(f.store->HasBlob(Sha256Hex("shared")));
  CHECK(f.store->HasBlob(Sha256Hex("only in keep")));
  CHECK_FALSE(f.store->HasBlob(Sha256Hex("only in drop")));

  // An unreferenced tree that a client just asked about (Put touches it)
  // survives, with its contents.
  std::string again = snap("drop");
  CHECK(again == drop);
  for (auto& e : fs::recursive_directory_iterator(f.Dir())) Age(e.path().string(), 7200);
  CodeManifest m = *f.store->Manifest(again);
  REQUIRE(f.store->Put(m, "drop").ok());  // "have it": touches the tree
  absl::StatusOr<CollectResult> touched = f.store->Collect({}, absl::Now() - absl::Hours(1));
  REQUIRE(touched.ok());
  CHECK(f.store->Get(again).ok());
  CHECK(f.store->HasBlob(Sha256Hex("only in drop")));
  CHECK_FALSE(f.store->Get(keep).ok());  // no longer referenced, not touched
}

}  // namespace
}  // namespace skydeck::snapshots
