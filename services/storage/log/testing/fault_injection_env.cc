#include "services/storage/log/testing/fault_injection_env.h"

#include <memory>
#include <thread>

namespace ensemble::storage::testing {

class FaultInjectionEnv::File : public leveldb::WritableFile {
 public:
  File(FaultInjectionEnv* env, std::string fname, leveldb::WritableFile* base)
      : env_(env), fname_(std::move(fname)), base_(base) {}

  leveldb::Status Append(const leveldb::Slice& data) override {
    leveldb::Status s = env_->OnAppend(fname_, data.size());
    if (!s.ok()) return s;
    return base_->Append(data);
  }
  leveldb::Status Close() override { return base_->Close(); }
  leveldb::Status Flush() override { return base_->Flush(); }
  leveldb::Status Sync() override {
    leveldb::Status s = env_->BeforeSync();
    if (!s.ok()) return s;
    s = base_->Sync();
    if (s.ok()) env_->OnSynced(fname_);
    return s;
  }

 private:
  FaultInjectionEnv* const env_;
  const std::string fname_;
  const std::unique_ptr<leveldb::WritableFile> base_;
};

void FaultInjectionEnv::SetFailAppends(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_appends_ = on;
}

void FaultInjectionEnv::SetFailSyncs(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_syncs_ = on;
}

void FaultInjectionEnv::SetSyncDelay(std::chrono::microseconds delay) {
  std::lock_guard<std::mutex> lock(mu_);
  sync_delay_ = delay;
}

void FaultInjectionEnv::HoldSyncs() {
  std::lock_guard<std::mutex> lock(mu_);
  hold_syncs_ = true;
}

void FaultInjectionEnv::ReleaseSyncs() {
  std::lock_guard<std::mutex> lock(mu_);
  hold_syncs_ = false;
  cv_.notify_all();
}

int FaultInjectionEnv::held_syncs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_syncs_;
}

int64_t FaultInjectionEnv::wal_syncs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return wal_syncs_;
}

leveldb::Status FaultInjectionEnv::OnAppend(const std::string& fname, size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fail_appends_) return leveldb::Status::IOError(fname, "injected fault: append");
  files_[fname].written += n;
  return leveldb::Status::OK();
}

leveldb::Status FaultInjectionEnv::BeforeSync() {
  std::chrono::microseconds delay;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (hold_syncs_) {
      ++held_syncs_;
      cv_.notify_all();
      cv_.wait(lock, [this] { return !hold_syncs_; });
      --held_syncs_;
    }
    if (fail_syncs_) return leveldb::Status::IOError("injected fault: sync");
    delay = sync_delay_;
  }
  if (delay.count() > 0) std::this_thread::sleep_for(delay);
  return leveldb::Status::OK();
}

void FaultInjectionEnv::OnSynced(const std::string& fname) {
  std::lock_guard<std::mutex> lock(mu_);
  FileState& f = files_[fname];
  f.synced = f.written;
  if (fname.size() > 4 && fname.compare(fname.size() - 4, 4, ".log") == 0) ++wal_syncs_;
}

leveldb::Status FaultInjectionEnv::NewWritableFile(const std::string& fname,
                                                   leveldb::WritableFile** result) {
  leveldb::WritableFile* base = nullptr;
  leveldb::Status s = target()->NewWritableFile(fname, &base);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    files_[fname] = FileState{};
  }
  *result = new File(this, fname, base);
  return s;
}

leveldb::Status FaultInjectionEnv::NewAppendableFile(const std::string& fname,
                                                     leveldb::WritableFile** result) {
  uint64_t size = 0;
  if (!target()->GetFileSize(fname, &size).ok()) size = 0;
  leveldb::WritableFile* base = nullptr;
  leveldb::Status s = target()->NewAppendableFile(fname, &base);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, inserted] = files_.try_emplace(fname, FileState{size, size});
    if (!inserted) it->second.written = size;  // keep its synced mark
  }
  *result = new File(this, fname, base);
  return s;
}

leveldb::Status FaultInjectionEnv::RemoveFile(const std::string& fname) {
  leveldb::Status s = target()->RemoveFile(fname);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    files_.erase(fname);
  }
  return s;
}

leveldb::Status FaultInjectionEnv::RenameFile(const std::string& src, const std::string& target) {
  leveldb::Status s = EnvWrapper::RenameFile(src, target);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(src);
    if (it != files_.end()) {
      files_[target] = it->second;
      files_.erase(src);
    } else {
      files_.erase(target);
    }
  }
  return s;
}

leveldb::Status FaultInjectionEnv::DropUnsyncedData() {
  std::map<std::string, FileState> files;
  {
    std::lock_guard<std::mutex> lock(mu_);
    files.swap(files_);
  }
  for (const auto& [fname, state] : files) {
    if (state.synced >= state.written) continue;
    if (!target()->FileExists(fname)) continue;
    std::string kept;
    if (state.synced > 0) {
      leveldb::SequentialFile* in_raw = nullptr;
      leveldb::Status s = target()->NewSequentialFile(fname, &in_raw);
      if (!s.ok()) return s;
      std::unique_ptr<leveldb::SequentialFile> in(in_raw);
      std::string scratch(state.synced, '\0');
      leveldb::Slice got;
      s = in->Read(state.synced, &got, scratch.data());
      if (!s.ok()) return s;
      kept.assign(got.data(), got.size());
    }
    leveldb::WritableFile* out_raw = nullptr;
    leveldb::Status s = target()->NewWritableFile(fname, &out_raw);
    if (!s.ok()) return s;
    std::unique_ptr<leveldb::WritableFile> out(out_raw);
    s = out->Append(kept);
    if (s.ok()) s = out->Close();
    if (!s.ok()) return s;
  }
  return leveldb::Status::OK();
}

}  // namespace ensemble::storage::testing
