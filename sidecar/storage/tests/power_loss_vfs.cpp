#include "sidecar/storage/tests/power_loss_vfs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace raftmeta::storage::testing {

struct PowerLossVfs::File {
  sqlite3_file base;  // must be first: SQLite sees a File as a sqlite3_file
  PowerLossVfs* vfs;
  std::string* path;
  sqlite3_file* real;
};

namespace {

using File = PowerLossVfs::File;
using Op = PowerLossVfs::Op;

File* as_file(sqlite3_file* f) { return reinterpret_cast<File*>(f); }
PowerLossVfs* owner(sqlite3_vfs* v) { return static_cast<PowerLossVfs*>(v->pAppData); }

int real_size(File* f, sqlite3_int64* size) { return f->real->pMethods->xFileSize(f->real, size); }

int x_close(sqlite3_file* file) {
  File* f = as_file(file);
  const int rc = f->real->pMethods->xClose(f->real);
  std::free(f->real);
  delete f->path;
  return rc;
}

int x_read(sqlite3_file* file, void* buf, int amt, sqlite3_int64 off) {
  File* f = as_file(file);
  std::lock_guard lock(f->vfs->mu);
  if (f->vfs->off) return SQLITE_IOERR_READ;
  auto* out = static_cast<char*>(buf);
  int rc = f->real->pMethods->xRead(f->real, buf, amt, off);
  if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) return rc;
  sqlite3_int64 size = 0;
  if (int r = real_size(f, &size); r != SQLITE_OK) return r;
  auto it = f->vfs->pending.find(*f->path);
  if (it != f->vfs->pending.end()) {
    const sqlite3_int64 end = off + amt;
    for (const Op& op : it->second) {
      if (op.truncate) {
        size = op.offset;
        if (op.offset < end) {
          const sqlite3_int64 from = std::max(op.offset, off);
          std::memset(out + (from - off), 0, static_cast<std::size_t>(end - from));
        }
        continue;
      }
      const sqlite3_int64 op_end = op.offset + static_cast<sqlite3_int64>(op.data.size());
      size = std::max(size, op_end);
      const sqlite3_int64 lo = std::max(off, op.offset);
      const sqlite3_int64 hi = std::min(end, op_end);
      if (lo < hi) {
        std::memcpy(out + (lo - off), op.data.data() + (lo - op.offset),
                    static_cast<std::size_t>(hi - lo));
      }
    }
  }
  if (off + amt > size) {
    const sqlite3_int64 valid = std::max<sqlite3_int64>(0, size - off);
    std::memset(out + valid, 0, static_cast<std::size_t>(amt - valid));
    return SQLITE_IOERR_SHORT_READ;
  }
  return SQLITE_OK;
}

int x_write(sqlite3_file* file, const void* buf, int amt, sqlite3_int64 off) {
  File* f = as_file(file);
  std::lock_guard lock(f->vfs->mu);
  if (f->vfs->tick_locked()) return SQLITE_IOERR_WRITE;
  f->vfs->pending[*f->path].push_back(
      Op{false, off, std::string(static_cast<const char*>(buf), static_cast<std::size_t>(amt))});
  return SQLITE_OK;
}

int x_truncate(sqlite3_file* file, sqlite3_int64 size) {
  File* f = as_file(file);
  std::lock_guard lock(f->vfs->mu);
  if (f->vfs->tick_locked()) return SQLITE_IOERR_TRUNCATE;
  f->vfs->pending[*f->path].push_back(Op{true, size, {}});
  return SQLITE_OK;
}

int x_sync(sqlite3_file* file, int /*flags*/) {
  File* f = as_file(file);
  std::lock_guard lock(f->vfs->mu);
  if (f->vfs->tick_locked()) return SQLITE_IOERR_FSYNC;
  auto it = f->vfs->pending.find(*f->path);
  if (it == f->vfs->pending.end()) return SQLITE_OK;
  for (const Op& op : it->second) {
    const int rc = op.truncate
                       ? f->real->pMethods->xTruncate(f->real, op.offset)
                       : f->real->pMethods->xWrite(f->real, op.data.data(),
                                                   static_cast<int>(op.data.size()), op.offset);
    if (rc != SQLITE_OK) return rc;
  }
  f->vfs->pending.erase(it);
  return SQLITE_OK;
}

int x_file_size(sqlite3_file* file, sqlite3_int64* size) {
  File* f = as_file(file);
  std::lock_guard lock(f->vfs->mu);
  if (f->vfs->off) return SQLITE_IOERR_FSTAT;
  if (int rc = real_size(f, size); rc != SQLITE_OK) return rc;
  auto it = f->vfs->pending.find(*f->path);
  if (it == f->vfs->pending.end()) return SQLITE_OK;
  for (const Op& op : it->second) {
    *size = op.truncate ? op.offset
                        : std::max(*size, op.offset + static_cast<sqlite3_int64>(op.data.size()));
  }
  return SQLITE_OK;
}

int x_lock(sqlite3_file* f, int l) {
  return as_file(f)->real->pMethods->xLock(as_file(f)->real, l);
}
int x_unlock(sqlite3_file* f, int l) {
  return as_file(f)->real->pMethods->xUnlock(as_file(f)->real, l);
}
int x_check_reserved(sqlite3_file* f, int* out) {
  return as_file(f)->real->pMethods->xCheckReservedLock(as_file(f)->real, out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
  // Size hints would extend the real file behind the model's back; harmless
  // (zeros), but keep the model exact by ignoring them.
  if (op == SQLITE_FCNTL_SIZE_HINT || op == SQLITE_FCNTL_CHUNK_SIZE) return SQLITE_OK;
  return as_file(f)->real->pMethods->xFileControl(as_file(f)->real, op, arg);
}
int x_sector_size(sqlite3_file* f) {
  return as_file(f)->real->pMethods->xSectorSize(as_file(f)->real);
}
int x_device_characteristics(sqlite3_file* f) {
  return as_file(f)->real->pMethods->xDeviceCharacteristics(as_file(f)->real);
}
int x_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return as_file(f)->real->pMethods->xShmMap(as_file(f)->real, region, size, extend, out);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return as_file(f)->real->pMethods->xShmLock(as_file(f)->real, offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) { as_file(f)->real->pMethods->xShmBarrier(as_file(f)->real); }
int x_shm_unmap(sqlite3_file* f, int del) {
  return as_file(f)->real->pMethods->xShmUnmap(as_file(f)->real, del);
}

// Version 2: shared memory, but no memory-mapped reads (xFetch would bypass
// the model).
const sqlite3_io_methods kMethods = {
    2,
    x_close,
    x_read,
    x_write,
    x_truncate,
    x_sync,
    x_file_size,
    x_lock,
    x_unlock,
    x_check_reserved,
    x_file_control,
    x_sector_size,
    x_device_characteristics,
    x_shm_map,
    x_shm_lock,
    x_shm_barrier,
    x_shm_unmap,
    nullptr,
    nullptr,
};

int v_open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  PowerLossVfs* self = owner(vfs);
  File* f = as_file(file);
  f->base.pMethods = nullptr;
  auto* real =
      static_cast<sqlite3_file*>(std::calloc(1, static_cast<std::size_t>(self->real->szOsFile)));
  if (real == nullptr) return SQLITE_NOMEM;
  const int rc = self->real->xOpen(self->real, name, real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (real->pMethods != nullptr) real->pMethods->xClose(real);
    std::free(real);
    return rc;
  }
  f->vfs = self;
  f->real = real;
  f->path =
      new std::string(name ? name : "(temp)" + std::to_string(reinterpret_cast<std::uintptr_t>(f)));
  f->base.pMethods = &kMethods;
  return SQLITE_OK;
}

int v_delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  PowerLossVfs* self = owner(vfs);
  {
    std::lock_guard lock(self->mu);
    if (self->off) return SQLITE_IOERR_DELETE;
    self->pending.erase(name);
  }
  return self->real->xDelete(self->real, name, sync_dir);
}

int v_access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return owner(vfs)->real->xAccess(owner(vfs)->real, name, flags, out);
}
int v_full_pathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return owner(vfs)->real->xFullPathname(owner(vfs)->real, name, n, out);
}
int v_randomness(sqlite3_vfs* vfs, int n, char* out) {
  return owner(vfs)->real->xRandomness(owner(vfs)->real, n, out);
}
int v_sleep(sqlite3_vfs* vfs, int us) { return owner(vfs)->real->xSleep(owner(vfs)->real, us); }
int v_current_time(sqlite3_vfs* vfs, double* out) {
  return owner(vfs)->real->xCurrentTime(owner(vfs)->real, out);
}
int v_last_error(sqlite3_vfs* vfs, int n, char* out) {
  return owner(vfs)->real->xGetLastError(owner(vfs)->real, n, out);
}
int v_current_time64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return owner(vfs)->real->xCurrentTimeInt64(owner(vfs)->real, out);
}

}  // namespace

PowerLossVfs::PowerLossVfs(const std::string& name) : name_(name) {
  real = sqlite3_vfs_find(nullptr);
  vfs_.iVersion = 2;
  vfs_.szOsFile = sizeof(File);
  vfs_.mxPathname = real->mxPathname;
  vfs_.zName = name_.c_str();
  vfs_.pAppData = this;
  vfs_.xOpen = v_open;
  vfs_.xDelete = v_delete;
  vfs_.xAccess = v_access;
  vfs_.xFullPathname = v_full_pathname;
  vfs_.xRandomness = v_randomness;
  vfs_.xSleep = v_sleep;
  vfs_.xCurrentTime = v_current_time;
  vfs_.xGetLastError = v_last_error;
  vfs_.xCurrentTimeInt64 = v_current_time64;
  sqlite3_vfs_register(&vfs_, 0);
}

PowerLossVfs::~PowerLossVfs() { sqlite3_vfs_unregister(&vfs_); }

bool PowerLossVfs::tick_locked() {
  if (off) return true;
  ++ops;
  if (countdown == 0) {
    cut_locked();
    return true;
  }
  if (countdown > 0) --countdown;
  return false;
}

void PowerLossVfs::cut_locked() {
  off = true;
  countdown = -1;
  if (mode == CutMode::kKeepRandomUnsynced) {
    // Some unsynced writes reached the disk, in any order, possibly torn.
    for (auto& [path, file_ops] : pending) {
      const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) continue;
      std::shuffle(file_ops.begin(), file_ops.end(), rng);
      for (const Op& op : file_ops) {
        if (rng() % 2 == 0) continue;
        if (op.truncate) {
          (void)::ftruncate(fd, op.offset);
          continue;
        }
        std::size_t n = op.data.size();
        if (n > 512 && rng() % 3 == 0) n = 512 * (1 + rng() % (n / 512));  // torn
        (void)::pwrite(fd, op.data.data(), std::min(n, op.data.size()), op.offset);
      }
      // Closing this descriptor drops the process's POSIX locks on the file;
      // harmless: with the power off every connection is about to close.
      ::close(fd);
    }
  }
  pending.clear();
}

void PowerLossVfs::set_cut_mode(CutMode m, std::uint64_t seed) {
  std::lock_guard lock(mu);
  mode = m;
  rng.seed(seed);
}

void PowerLossVfs::cut_power_after(std::uint64_t n) {
  std::lock_guard lock(mu);
  countdown = static_cast<std::int64_t>(n);
}

void PowerLossVfs::cut_power_now() {
  std::lock_guard lock(mu);
  cut_locked();
}

void PowerLossVfs::restore_power() {
  std::lock_guard lock(mu);
  off = false;
  countdown = -1;
  pending.clear();
}

bool PowerLossVfs::power_is_off() const {
  std::lock_guard lock(mu);
  return off;
}

std::uint64_t PowerLossVfs::operations() const {
  std::lock_guard lock(mu);
  return ops;
}

std::uint64_t PowerLossVfs::unsynced_bytes() const {
  std::lock_guard lock(mu);
  std::uint64_t n = 0;
  for (const auto& [path, ops_of_file] : pending) {
    for (const Op& op : ops_of_file) n += op.data.size();
  }
  return n;
}

}  // namespace raftmeta::storage::testing
