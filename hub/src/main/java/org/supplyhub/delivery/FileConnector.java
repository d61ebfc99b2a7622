package org.supplyhub.delivery;

import org.supplyhub.config.DestinationDefinition;
import org.supplyhub.journal.crypto.OwnerOnlyFiles;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One file per delivery, written atomically and durably: a temp file in the same directory, its
 * bytes forced to disk, then a rename, so a reader never sees half a file. The name comes from the
 * idempotency key, so a retry rewrites the same file instead of adding a second one. The renames
 * are made durable by {@link #flush}, which forces the directory once per settled group of sends
 * before the worker marks them DELIVERED: a machine that crashes after that commit still has every
 * file. The files hold PHI: each is 0600 from its first byte, and a folder the hub creates is 0700;
 * a folder that exists is left as its owner set it up (a receiving system may read it through its
 * group).
 */
@Component
public class FileConnector implements Connector {

    private static final Logger log = LoggerFactory.getLogger(FileConnector.class);

    private static final Set<OpenOption> CREATE = Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    private static final FileAttribute<?>[] OWNER_ONLY = OwnerOnlyFiles.POSIX
            ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OwnerOnlyFiles.FILE)} : new FileAttribute<?>[0];
    /**
     * Temp names are unique without a random draw per file: this process's tag and a counter. Two
     * writers of one key (a claim that outlived its lease and the claim that took the row over, on
     * another node perhaps) never share a temp file.
     */
    private static final String PROCESS = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    private static final AtomicLong SEQUENCE = new AtomicLong();

    /** Folders seen to exist: not asked again for every file. */
    private final Set<Path> folders = ConcurrentHashMap.newKeySet();
    /**
     * Folders whose file system refuses to sync a directory (some SMB/CIFS, NFS and FUSE mounts, a
     * likely place for a drop folder shared with billing): their files are still forced one by one,
     * and the renames are as durable as that file system makes them. Said once per folder.
     */
    private final Set<Path> unsyncable = ConcurrentHashMap.newKeySet();

    @Override
    public String send(DestinationDefinition destination, Payload payload) throws DeliveryException {
        Path dir = destination.directory();
        String name = payload.idempotencyKey() + "." + payload.extension();
        Path temp = dir.resolve(".incoming-" + name + "." + PROCESS + "-" + SEQUENCE.incrementAndGet() + ".tmp");
        try {
            if (!folders.contains(dir)) {
                if (!Files.isDirectory(dir)) {
                    OwnerOnlyFiles.directory(dir);
                    if (dir.toAbsolutePath().getParent() != null) {
                        sync(dir.toAbsolutePath().getParent()); // the new folder's own entry survives a crash too
                    }
                }
                folders.add(dir);
            }
            try {
                try (FileChannel out = FileChannel.open(temp, CREATE, OWNER_ONLY)) {
                    ByteBuffer body = ByteBuffer.wrap(payload.body());
                    while (body.hasRemaining()) {
                        out.write(body);
                    }
                    out.force(true); // the bytes are on disk before the name points at them
                }
                Path target = dir.resolve(name);
                try {
                    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
                }
            } catch (IOException e) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException cleanup) {
                    e.addSuppressed(cleanup);
                }
                throw e;
            }
            return name;
        } catch (IOException e) {
            folders.remove(dir); // a folder removed meanwhile is made again on the retry
            throw new DeliveryException("cannot write to " + dir + ": " + e.getClass().getSimpleName(), "IO", false, e);
        }
    }

    /**
     * Forces the destination's directory, so the renames of the files sent since are on disk: one
     * fsync for a whole group of sends (where the file system allows a directory to be opened;
     * elsewhere, Windows say, the rename is as durable as it is made by the system).
     */
    @Override
    public void flush(DestinationDefinition destination) throws DeliveryException {
        Path dir = destination.directory();
        try {
            sync(dir);
        } catch (IOException e) { // the folder is gone or unreadable: the sends are retried
            throw new DeliveryException("cannot sync " + dir + ": " + e.getClass().getSimpleName(), "IO", false, e);
        }
    }

    /** fsync of a directory, where the platform and the file system allow one. */
    private void sync(Path dir) throws IOException {
        if (!OwnerOnlyFiles.POSIX || unsyncable.contains(dir)) {
            return;
        }
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            try {
                channel.force(true);
            } catch (IOException refused) { // the folder opened, but its file system does not sync directories
                if (unsyncable.add(dir)) {
                    log.warn("Folder {}: its file system does not sync directories ({}); files are forced one by one",
                            dir, refused.getClass().getSimpleName());
                }
            }
        }
    }
}
