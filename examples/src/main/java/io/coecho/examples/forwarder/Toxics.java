package io.coecho.examples.forwarder;

import java.time.Duration;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * The faults one way of a {@link Forwarder} injects into what it copies: Toxiproxy's toxics, each
 * off by default. {@link Direction} applies them to every chunk it reads, in this order:
 *
 * <pre>
 *   blackhole ─► cut after N bytes ─► latency ± jitter ─► slicer ─► bandwidth ─► write
 *   (hold)       (limit-data: FIN;     (per chunk,          (random   (paced
 *                 reset: RST)           order kept)          pieces)   bytes/s)
 *   and at EOF: blackhole (hold) ─► slow close ─► FIN
 * </pre>
 *
 * <ul>
 *   <li><b>latency</b> ± <b>jitter</b>: each chunk waits latency plus a uniform draw from ±jitter
 *       before it goes on, one chunk after the other, so order is kept (as Toxiproxy's latency toxic:
 *       a chunk read while the previous one waits waits after it, so a direction also carries at
 *       most one buffer per latency).
 *   <li><b>bandwidth</b>: at most this many bytes per second, sent in pieces of at most 100 ms worth.
 *   <li><b>slicer</b>: each chunk goes out in pieces of average ± variation bytes, with a delay
 *       between pieces (the timers' resolution is a millisecond, so a shorter delay is a
 *       millisecond), as a real network splits and spaces segments.
 *   <li><b>slow close</b>: the EOF (our FIN to the receiver) is passed on only after this delay.
 *   <li><b>blackhole</b>: nothing more is forwarded, EOF included, until the toxic is lifted; the
 *       direction reads nothing meanwhile (one chunk already read waits), so the sender's buffers
 *       fill as behind a network partition and nothing is lost when it heals.
 *   <li><b>reset</b>: after N bytes, or this long after the first chunk, the link is reset: an RST to
 *       both ends (SO_LINGER 0).
 *   <li><b>limit data</b>: after N bytes the link is closed: each end gets a FIN (Toxiproxy's
 *       limit_data).
 * </ul>
 *
 * <p>Immutable; made with {@link #builder()}. Safe to share between threads: the forwarder reads
 * the current setting for each chunk, so a change applies to links already open.
 *
 * @param latency added to each chunk's way through (ZERO: none)
 * @param jitter latency varies uniformly by up to this much either way (clipped at zero)
 * @param bandwidth bytes per second; 0: unlimited
 * @param sliceAverage slicer's average piece size in bytes; 0: no slicing
 * @param sliceVariation slicer's pieces vary by up to this many bytes either way (at least 1 byte)
 * @param sliceDelay slicer's pause between the pieces of one chunk
 * @param slowClose delay before the EOF is passed on
 * @param blackhole forward nothing until lifted
 * @param resetAfterBytes reset the link once this many bytes went this way; -1: never
 * @param resetAfterTime reset the link this long after the first chunk went this way; null: never
 * @param limitData close the link once this many bytes went this way; -1: never
 */
public record Toxics(Duration latency, Duration jitter, long bandwidth, int sliceAverage, int sliceVariation,
        Duration sliceDelay, Duration slowClose, boolean blackhole, long resetAfterBytes, Duration resetAfterTime,
        long limitData) {

    /** No faults: the forwarder copies as it is. */
    public static final Toxics NONE = builder().build();

    public Toxics {
        Objects.requireNonNull(latency);
        Objects.requireNonNull(jitter);
        Objects.requireNonNull(sliceDelay);
        Objects.requireNonNull(slowClose);
        if (latency.isNegative() || jitter.isNegative() || sliceDelay.isNegative() || slowClose.isNegative()
                || (resetAfterTime != null && resetAfterTime.isNegative())) {
            throw new IllegalArgumentException("negative duration in " + this);
        }
        if (bandwidth < 0 || sliceAverage < 0 || sliceVariation < 0 || (sliceAverage > 0 && sliceVariation >= sliceAverage)
                || resetAfterBytes < -1 || limitData < -1) {
            throw new IllegalArgumentException("out of range in " + this);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** The delay for the next chunk: latency ± a uniform draw from jitter, never negative. */
    long delayNanos(SplittableRandom random) {
        long nanos = latency.toNanos();
        long j = jitter.toNanos();
        if (j > 0) {
            nanos += random.nextLong(-j, j + 1);
        }
        return Math.max(0, nanos);
    }

    /** The slicer's next piece size: average ± variation, at least 1. */
    int sliceSize(SplittableRandom random) {
        return Math.max(1, sliceAverage + random.nextInt(-sliceVariation, sliceVariation + 1));
    }

    /**
     * How many more bytes may go before a cut (limit-data or a byte-count reset), given sent bytes
     * so far; Long.MAX_VALUE when neither is set.
     */
    long allowance(long sent) {
        long limit = Long.MAX_VALUE;
        if (limitData >= 0) {
            limit = limitData;
        }
        if (resetAfterBytes >= 0) {
            limit = Math.min(limit, resetAfterBytes);
        }
        return limit == Long.MAX_VALUE ? limit : Math.max(0, limit - sent);
    }

    /** Whether the cut at the allowance is a reset (the byte-count reset comes first), else a close. */
    boolean cutIsReset() {
        return resetAfterBytes >= 0 && (limitData < 0 || resetAfterBytes <= limitData);
    }

    /** Builds a {@link Toxics}; each setter turns one toxic on (or off again). */
    public static final class Builder {
        private Duration latency = Duration.ZERO;
        private Duration jitter = Duration.ZERO;
        private long bandwidth;
        private int sliceAverage;
        private int sliceVariation;
        private Duration sliceDelay = Duration.ZERO;
        private Duration slowClose = Duration.ZERO;
        private boolean blackhole;
        private long resetAfterBytes = -1;
        private Duration resetAfterTime;
        private long limitData = -1;

        private Builder() {}

        private Builder(Toxics t) {
            latency = t.latency;
            jitter = t.jitter;
            bandwidth = t.bandwidth;
            sliceAverage = t.sliceAverage;
            sliceVariation = t.sliceVariation;
            sliceDelay = t.sliceDelay;
            slowClose = t.slowClose;
            blackhole = t.blackhole;
            resetAfterBytes = t.resetAfterBytes;
            resetAfterTime = t.resetAfterTime;
            limitData = t.limitData;
        }

        public Builder latency(Duration latency, Duration jitter) {
            this.latency = latency;
            this.jitter = jitter;
            return this;
        }

        public Builder bandwidth(long bytesPerSecond) {
            this.bandwidth = bytesPerSecond;
            return this;
        }

        public Builder slicer(int averageSize, int variation, Duration delay) {
            this.sliceAverage = averageSize;
            this.sliceVariation = variation;
            this.sliceDelay = delay;
            return this;
        }

        public Builder slowClose(Duration delay) {
            this.slowClose = delay;
            return this;
        }

        public Builder blackhole(boolean on) {
            this.blackhole = on;
            return this;
        }

        public Builder resetAfterBytes(long bytes) {
            this.resetAfterBytes = bytes;
            return this;
        }

        public Builder resetAfter(Duration time) {
            this.resetAfterTime = time;
            return this;
        }

        public Builder limitData(long bytes) {
            this.limitData = bytes;
            return this;
        }

        public Toxics build() {
            return new Toxics(latency, jitter, bandwidth, sliceAverage, sliceVariation, sliceDelay, slowClose, blackhole,
                    resetAfterBytes, resetAfterTime, limitData);
        }
    }
}
