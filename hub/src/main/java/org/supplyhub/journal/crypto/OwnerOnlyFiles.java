package org.supplyhub.journal.crypto;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Folders and files only the hub's own user may read: 0700 and 0600. On file systems without POSIX
 * permissions (Windows) the calls do nothing beyond creating; the folder's ACL inherited from the
 * user's profile is what protects it there.
 */
public final class OwnerOnlyFiles {

    public static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");
    public static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
    public static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

    private OwnerOnlyFiles() {
    }

    /** The folder and every missing parent created 0700 (data/ and data/out too); an existing folder made 0700. */
    public static Path directory(Path dir) throws IOException {
        Path absolute = dir.toAbsolutePath();
        if (!Files.isDirectory(absolute)) {
            Path parent = absolute.getParent();
            if (parent != null && !Files.exists(parent)) {
                directory(parent);
            }
            try {
                Files.createDirectory(absolute);
            } catch (FileAlreadyExistsException raced) {
                // made meanwhile by another writer
            }
        }
        restrict(absolute, DIRECTORY);
        return dir;
    }

    /** An existing file made 0600 (H2 created it with the process umask). */
    public static void file(Path file) throws IOException {
        if (Files.isRegularFile(file)) {
            restrict(file, FILE);
        }
    }

    /**
     * Writes a file that is 0600 from its first byte: written to a 0600 temporary beside it, then moved
     * into place atomically, so a reader never sees it half written or readable by others.
     */
    public static void write(Path file, byte[] content) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = POSIX ? Files.createTempFile(dir, ".tmp-", "", PosixFilePermissions.asFileAttribute(FILE))
                : Files.createTempFile(dir, ".tmp-", "");
        try {
            Files.write(tmp, content);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Creates {@code file} 0600 with the content unless it exists (another node or start won the race). */
    public static boolean createNew(Path file, byte[] content) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = POSIX ? Files.createTempFile(dir, ".tmp-", "", PosixFilePermissions.asFileAttribute(FILE))
                : Files.createTempFile(dir, ".tmp-", "");
        try {
            Files.write(tmp, content);
            Files.createLink(file, tmp); // fails when it exists: never overwrites a key
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (UnsupportedOperationException e) {
            if (Files.exists(file)) {
                return false;
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            return true;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void restrict(Path path, Set<PosixFilePermission> permissions) throws IOException {
        if (POSIX) {
            Files.setPosixFilePermissions(path, permissions);
        }
    }
}
