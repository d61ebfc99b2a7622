package org.supplyhub.delivery;

import org.supplyhub.config.DestinationDefinition;
import org.supplyhub.journal.crypto.OwnerOnlyFiles;

import org.springframework.stereotype.Component;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * One file per delivery, written atomically: a temp file in the same directory, then a rename, so
 * a reader never sees half a file. The name comes from the idempotency key, so a retry rewrites the
 * same file instead of adding a second one. The files hold PHI: each is 0600 from its first byte (a
 * temp file is created owner-only), and a folder the hub creates is 0700; a folder that exists is
 * left as its owner set it up (a receiving system may read it through its group).
 */
@Component
public class FileConnector implements Connector {

    @Override
    public String send(DestinationDefinition destination, Payload payload) throws DeliveryException {
        Path dir = destination.directory();
        Path target = dir.resolve(payload.idempotencyKey() + "." + payload.extension());
        try {
            if (!Files.isDirectory(dir)) {
                OwnerOnlyFiles.directory(dir);
            }
            Path temp = OwnerOnlyFiles.POSIX ? Files.createTempFile(dir, ".incoming-", ".tmp",
                    PosixFilePermissions.asFileAttribute(OwnerOnlyFiles.FILE)) : Files.createTempFile(dir, ".incoming-", ".tmp");
            Files.write(temp, payload.body());
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            return target.getFileName().toString();
        } catch (IOException e) {
            throw new DeliveryException("cannot write to " + dir + ": " + e.getClass().getSimpleName(), "IO", false, e);
        }
    }
}
