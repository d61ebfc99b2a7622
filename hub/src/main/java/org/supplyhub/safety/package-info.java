/**
 * Implant safety at the point of use: the checks a device on a usage line must pass (expired,
 * recalled, suspect identity) and what a failed check does. Plain Java over the canonical usage, like
 * {@code mapping}; the recall list ({@link org.supplyhub.safety.RecallIndex}) is loaded by
 * {@code config}, and the implant history ({@link org.supplyhub.safety.ImplantHistory}) is read from
 * the {@code journal}, each through the interfaces declared here.
 */
package org.supplyhub.safety;
