// Package audit is Genesis's tamper-evident audit log: an append-only
// RFC 6962 Merkle log of canonical Records with Ed25519-signed checkpoints in
// the C2SP signed-note / tlog-checkpoint format, and offline verification
// that re-derives the whole tree from every entry.
//
// # Guarantees
//
//   - AppendSync returns only after the entry is fsynced AND covered by a
//     signed checkpoint that is itself fsynced. If the log cannot be written
//     it returns an error and every later append fails too (sticky failure),
//     so callers can fail the action (NIST 800-53 AU-5). Use it for
//     NATIONAL-SECURITY actions.
//   - Append sequences the entry and returns its index at once. The writer
//     fsyncs pending entries every Options.FlushInterval (50 ms) and signs
//     a checkpoint every Options.CheckpointInterval (500 ms, at most 5 s);
//     Options.MaxPending bounds how far appends may run ahead of the disk,
//     so the time to a covering checkpoint stays bounded under load
//     (BenchmarkAppend reports it as cp-lag-*). Close makes everything
//     durable and checkpointed.
//   - A crash at any instant (kill -9) leaves a directory that Open repairs
//     (a torn trailing entry is cut off, entries written after the last
//     checkpoint are integrated and a new checkpoint signed) and that Verify
//     accepts. Entries acknowledged by AppendSync are never lost; entries
//     acknowledged by Append are lost only if the process dies within the
//     flush interval.
//   - Verify detects any change to any byte of the entries, tiles or
//     checkpoints, truncation, and reordering: it recomputes every leaf and
//     every stored tile with an independent implementation
//     (transparency-dev/merkle compact ranges) and checks the signed root.
//     Rolling the whole directory back to an older state signed with the
//     same key is detectable only against a checkpoint kept elsewhere
//     (VerifyOptions.Trusted): keep the last verified checkpoint outside the
//     data directory (SaveCheckpoint, LoadCheckpoint). Against one, Verify
//     checks the root at its size and a consistency proof from it to the
//     latest checkpoint, and names a rollback or a fork.
//   - Any record can be appended: string fields that are not UTF-8 or too
//     long are escaped and cut with a marker (Escape), never refused, so a
//     refusal is on the record whatever was asked.
//   - Records do not give away labels: a record carries a keyed hash of its
//     object's label (LabelKey, kept beside the signing key), matched by
//     whoever holds the key (Log.LabelMatches). Records written before it
//     (version 1, a bare SHA-256) are still read and verified.
//
// # On-disk layout (one directory)
//
//	entries          every entry, in order, each framed as a big-endian
//	                 uint16 length then the bytes. The bytes of entries
//	                 [256k, 256k+256) are exactly the C2SP tlog-tiles entry
//	                 bundle tile/entries/k.
//	tile/L/N         full hash tiles, C2SP tlog-tiles layout (height 8, N
//	                 encoded x001/x234/067), 256 × 32-byte hashes each,
//	                 immutable once written. Partial tiles live in memory
//	                 and are recomputed on Open.
//	checkpoint       latest signed checkpoint (origin, size, root).
//	checkpoint.prev  the one before it; Verify checks it is consistent.
//	lock             flock(2) so that only one process appends.
//
// # The shared log (StoreLog)
//
// Several replicas share one log through the metadata store (OpenStore;
// config audit.backend store; migration 0033): audit_entries (idx, data),
// audit_tiles (level, n, data: full tiles, immutable once written) and one
// audit_head row (size, checkpoint, prev). Each replica group-commits the
// appends that arrive while its previous batch is committing, and a batch
// is one transaction: lock the head row (SELECT … FOR UPDATE, at READ
// COMMITTED on PostgreSQL; SQLite's write transaction excludes other
// writers), catch the replica's tree up with the entries other replicas
// added (checking the head's signed root), insert the batch's entries and
// the tiles they complete, sign a checkpoint and store it in the head. So
// every replica appends into one order, the database never holds an entry
// no signed checkpoint covers, and Append and AppendSync both return only
// once the entry is committed and checkpointed. There is no sticky
// failure: a batch that cannot commit fails its appends (so the actions
// fail), and Healthy fails while the database cannot be read. VerifyStore
// runs the same independent verifier over the tables in one snapshot.
// Both backends are a Backend.
//
// StoreLog.Import carries a file log into an empty shared log, byte for
// byte, so the shared tree at the source's size is the source's tree; it
// then appends an ImportAction record holding the source's signed
// checkpoint. An interrupted import is resumed by running it again.
//
// Log.ReadTile and Snapshot.ReadTile serve the whole log in the C2SP
// tlog-tiles layout (checkpoint, tile/L/N[.p/W], tile/entries/N[.p/W]),
// so standard tlog clients and witnesses can follow it over HTTP.
//
// # Why golang.org/x/mod/sumdb/tlog + note rather than tessera
//
// Tessera's POSIX driver sequences entries into bundles and integrates them
// asynchronously, publishing checkpoints on its own interval; waiting for an
// entry to be both durable and in a checkpoint means waiting for that cycle,
// and its working state lives in files outside the verifiable data, which
// makes "any byte of any file is checked" hard to state. Here one writer
// goroutine does group commit: one write + one fsync of the append-only
// entries file per batch (plus one tile per 256 entries), a checkpoint at
// once when an AppendSync is waiting, and otherwise on a timer. That gives
// sub-batch latency for AU-5 appends, tens of thousands of buffered appends
// per second, and a layout where every byte is covered by Verify.
package audit
