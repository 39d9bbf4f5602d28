package main

// The gateway keeper: it finds the uplink's default gateway, learns its
// MAC with our own NS from a global source, pins the kernel's neighbour
// entry for it, keeps that pin true, and announces our addresses to it.
// A state machine in plain Go: it is handed snapshots (the uplink, the
// configuration, the live addresses) and the gateway's NAs, each with the
// time, and says when it next wants to be woken; what it does goes out
// through a frame writer and a neighbour table, so tests drive it without
// root or sleeps.

import (
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	"ndpresponder/internal/rtnl"
	"ndpresponder/internal/scope"
)

// appendGatewayNS appends an NS for the gateway from src, with our MAC in
// a source link-layer option: the router learns src is at our MAC, and
// answers with its own. With to zero it goes to the gateway's
// solicited-node group; otherwise it is a unicast probe to the gateway's
// address at MAC to (RFC 4861 §7.3.3).
func appendGatewayNS(b []byte, self, to mac, src, gw netip.Addr) []byte {
	if to == (mac{}) {
		g := solicitedNode(gw)
		return appendNS(b, self, multicastMAC(g), src, g, gw, [6]byte{})
	}
	return appendNS(b, self, to, src, gw, gw, [6]byte{})
}

// askSource is the one address the keeper's own questions to the gateway
// go from: the uplink's first global address, which passes a filter that
// drops link-local sources; else the first announced address; else the
// link-local address. The announced addresses speak to the gateway in
// their announcements and, with -keepalive, in refreshes paced by
// -announce-rate, not in every question: a question from each of
// thousands of addresses was a burst of thousands of frames.
// announced is asked only when the uplink has no global address. Invalid
// when there is no address at all.
func askSource(u *uplink, announced func() []netip.Addr) netip.Addr {
	if len(u.Global) > 0 {
		return u.Global[0]
	}
	if a := announced(); len(a) > 0 {
		return a[0]
	}
	return u.LinkLocal
}

// gatewayState follows what the gateway's NAs tell us.
type gatewayState struct {
	Addr     netip.Addr
	MAC      mac
	Known    bool
	LastSeen time.Time
	Silent   bool // warned that it stopped answering
}

// seen records an NA from the gateway at now carrying m, and says whether
// the MAC is new or changed (and so the pin must follow) and whether the
// gateway had been silent.
func (g *gatewayState) seen(m mac, now time.Time) (changed, wasSilent bool) {
	changed = !g.Known || g.MAC != m
	wasSilent = g.Silent
	g.MAC, g.Known, g.LastSeen, g.Silent = m, true, now, false
	return changed, wasSilent
}

// silent says, once, that the gateway has not answered for more than two
// keepalive intervals.
func (g *gatewayState) silent(now time.Time, interval time.Duration) bool {
	if !g.Known || g.Silent || now.Sub(g.LastSeen) <= 2*interval+time.Second {
		return false
	}
	g.Silent = true
	return true
}

// What the keeper trusts. An NA is a claim; only an answer to a question
// we asked, from where we asked it, becomes a pin (RFC 4861 §7.2.5 is as
// careful about which NAs may change a cache entry).
const (
	// answerWindow is how long after our NS an answer counts.
	answerWindow = time.Second
	// maxUnanswered unanswered probes of the followed MAC make the keeper
	// solicit the gateway anew by multicast, and only then may it move.
	maxUnanswered = 3
	// verifyEvery bounds how often a claim of another MAC makes the
	// keeper probe the one it follows.
	verifyEvery = 30 * time.Second
	// maxCandidates is how many MACs one round of answers keeps; more
	// is a conflict anyway.
	maxCandidates = 4
	// pinCheckEvery is how often a pinned entry is checked by a unicast
	// probe of its MAC when -keepalive does not ask more often. The kernel
	// never checks a NOARP entry, and ignores what the network says of it:
	// a router whose MAC changes without a word (an unsolicited NA is not
	// Linux's default) would be unreachable for good. Three unanswered
	// probes, a window apart, make the keeper learn the gateway anew, so a
	// silent change is followed within pinCheckEvery and a few seconds.
	pinCheckEvery = 20 * time.Second
	// giveBackAfter is how long the keeper keeps a pin while it cannot
	// learn the gateway's MAC: then it removes the pin and leaves the entry
	// to the kernel, as it would be without the daemon, until the gateway
	// answers again.
	giveBackAfter = 30 * time.Second
)

// pinProtocol marks the neighbour entries the keeper makes (NDA_PROTOCOL,
// "proto 110" in ip -d neigh), so that a later run, or -unpin, can tell a
// pin that a run which died left behind from an entry someone else made.
const pinProtocol = 110

// gatewayView is what the packet loop needs to sort the NAs it sees; the
// keeper publishes a new one whenever any of it changes.
type gatewayView struct {
	addr   netip.Addr // the gateway; invalid while the keeper needs no NAs
	self   mac        // our MAC
	follow mac        // the one MAC answers may name; zero while learning it
}

// check sorts an NA for the gateway (na.Target == v.addr): reasonNone if
// it may be an answer to us, which the keeper then matches with its
// question, or why not. m is the MAC it names.
func (v *gatewayView) check(na *neighborAdvertisement) (m mac, why reason) {
	m = na.EthSrc
	if na.HasTargetLLA {
		m = na.TargetLLA
	}
	switch {
	case na.Src != v.addr:
		return m, reasonNAWrongSource
	case !m.isUnicast() || !na.EthSrc.isUnicast():
		return m, reasonNABadMAC
	case na.Flags&naFlagSolicited == 0:
		return m, reasonNAUnsolicited
	case na.EthDst != v.self:
		return m, reasonNANotToUs
	case v.follow != (mac{}) && m != v.follow:
		return m, reasonNAOtherMAC
	}
	return m, reasonNone
}

// claimsOther says whether a refused NA names, from the gateway's own
// address, another station than the one followed: perhaps the gateway
// moved, perhaps a neighbour lies. The keeper then checks, by unicast
// probes, that the followed MAC still answers.
func (v *gatewayView) claimsOther(na *neighborAdvertisement, m mac) bool {
	return v.follow != (mac{}) && na.Src == v.addr && m.isUnicast() && m != v.follow
}

// neighTable is the kernel's neighbour table as the keeper uses it.
type neighTable interface {
	neigh(ifindex int, addr netip.Addr) (e rtnl.Neigh, ok bool, err error)
	setNeigh(ifindex int, addr netip.Addr, state uint16, m mac) error // marked pinProtocol
	delNeigh(ifindex int, addr netip.Addr) error
	neighs() ([]rtnl.Neigh, error)
}

// frameWriter sends whole Ethernet frames out of the uplink.
type frameWriter interface {
	write(frame []byte) error
}

// question is our last NS to the gateway: when, from which addresses,
// unicast to the followed MAC or multicast, and what answered it.
type question struct {
	at         time.Time
	srcs       []netip.Addr
	unicast    bool
	settled    bool  // its window has closed, or it was answered
	answered   bool  // (unicast) the followed MAC answered
	candidates []mac // (multicast) the MACs that answered, in order
}

// announceAsks is how many of the announcements' NS to the gateway the
// keeper remembers, so that the router's answers to them are not taken for
// unasked NAs: more than -announce-rate's default sends in answerWindow.
const announceAsks = 64

// askRing remembers the latest NS sent to the gateway from announced
// addresses, and when.
type askRing struct {
	src [announceAsks]netip.Addr
	at  [announceAsks]int64 // UnixNano
	n   int
}

func (r *askRing) add(src netip.Addr, now time.Time) {
	i := r.n % announceAsks
	r.src[i], r.at[i] = src, now.UnixNano()
	r.n++
}

// asked says whether an NS went from src within answerWindow before now.
func (r *askRing) asked(src netip.Addr, now time.Time) bool {
	since := now.Add(-answerWindow).UnixNano()
	for i := range min(r.n, announceAsks) {
		if r.src[i] == src && r.at[i] >= since && r.at[i] <= now.UnixNano() {
			return true
		}
	}
	return false
}

// gatewayKeeper is the keeper's state. Only its own goroutine (run) calls
// its methods.
type gatewayKeeper struct {
	ifindex int
	cfg     *config
	link    *uplink
	neigh   neighTable
	out     frameWriter
	c       *counters
	view    *atomic.Pointer[gatewayView] // read by the packet loop

	live     map[netip.Addr]bool // live addresses, announced and solicited from too
	fresh    []netip.Addr        // setLive's working memory, kept
	st       gatewayState
	pinned   bool // the entry is ours
	pinMAC   mac
	pinSaid  bool      // warned that pinning fails; said again only once it worked
	adminPin bool      // the administrator's PERMANENT entry, left alone
	noRoute  bool      // warned that there is no default route
	lostAt   time.Time // since when the MAC is being learned; zero while followed

	asked          question
	unanswered     int       // probes of the followed MAC in a row without an answer
	relearning     bool      // the followed MAC stopped answering: learn it anew
	fastProbes     int       // probes still to send, one a window, to check a claim
	lastVerify     time.Time // when a claim last started probes
	refusals       logLimiter
	solicitAt      time.Time     // the next multicast NS while learning; zero: none
	retry          time.Duration // the interval after that one
	keepaliveAt    time.Time     // the next keepalive or pin check; zero: off
	refresh        []netip.Addr  // announced addresses still to speak to the gateway in this keepalive
	refreshAt      time.Time     // when the next of them is due; zero: none
	announce       announceQueue
	announceAsked  askRing // the announcements' NS to the gateway, whose answers are expected
	announceBudget bucket
	deferredSaid   bool      // said that announcements wait for the rate
	epoch          time.Time // start: the announce budget's clock counts from it
	buf            []byte

	// Kept so that a keepalive allocates nothing: announced's slice, and
	// what the counters' gateway field was last made from.
	announcedBuf []netip.Addr
	reported     gatewayReport
}

// gatewayReport is what the counters' gateway field says.
type gatewayReport struct {
	addr                                               netip.Addr
	mac                                                mac
	known, silent, adminPin, pinned, relearning, valid bool
}

func newGatewayKeeper(ifindex int, cfg *config, link *uplink, neigh neighTable, out frameWriter, c *counters, view *atomic.Pointer[gatewayView]) *gatewayKeeper {
	return &gatewayKeeper{ifindex: ifindex, cfg: cfg, link: link, neigh: neigh, out: out, c: c, view: view,
		live: map[netip.Addr]bool{}, announce: announceQueue{jitter: jitter}, asked: question{settled: true},
		refusals: logLimiter{perSecond: 1, burst: 5}}
}

// start begins at now: it looks for the gateway and schedules the first
// solicitation and announcements.
func (k *gatewayKeeper) start(now time.Time) {
	k.epoch = now
	k.findGateway(now)
	k.sweepPins()
	k.setKeepalive(now)
	k.announce.add(k.announceable(k.cfg.announce), now)
	k.publish()
}

// wantMAC says whether the gateway's MAC is needed: for a pin, or for a
// keepalive that follows it.
func (k *gatewayKeeper) wantMAC() bool { return k.cfg.pinGateway || k.cfg.keepalive > 0 }

// following says whether the keeper follows a MAC it learned, rather than
// learning one.
func (k *gatewayKeeper) following() bool { return k.st.Known && !k.relearning }

// publish hands the packet loop the view of the moment, when it changed.
func (k *gatewayKeeper) publish() {
	v := gatewayView{self: k.link.MAC}
	if k.wantMAC() && k.st.Addr.IsValid() {
		v.addr = k.st.Addr
		if k.following() {
			v.follow = k.st.MAC
		}
	}
	if old := k.view.Load(); old == nil || *old != v {
		nv := v // only a new view escapes
		k.view.Store(&nv)
	}
}

// findGateway takes the gateway from the uplink's snapshot. A new gateway
// starts over: the old one's pin goes, the new one is solicited at once.
func (k *gatewayKeeper) findGateway(now time.Time) {
	gw := k.link.Gateway
	if !gw.IsValid() {
		if !k.noRoute {
			warnf("gateway: no IPv6 default route through the uplink; waiting for one")
			k.noRoute = true
		}
		return
	}
	k.noRoute = false
	if gw == k.st.Addr {
		return
	}
	if k.st.Addr.IsValid() {
		infof("gateway: default route now via %v (was %v)", gw, k.st.Addr)
		k.unpin()
	}
	k.st = gatewayState{Addr: gw}
	k.adminPin, k.relearning, k.unanswered, k.fastProbes = false, false, 0, 0
	k.asked = question{settled: true}
	k.learnFrom(now)
}

// sweepPins looks, at start, for pins on the uplink that a run which died
// left behind (SIGKILL, an OOM kill, a panic): the current gateway's is
// taken over, kept until the gateway answers and then checked like our
// own; any other is removed, since nothing would ever check it.
func (k *gatewayKeeper) sweepPins() {
	if !k.cfg.pinGateway {
		return
	}
	entries, err := k.neigh.neighs()
	if err != nil {
		warnf("gateway: looking for pins a previous run left: %v", err)
		return
	}
	for _, e := range entries {
		if !leftPin(e, k.ifindex) {
			continue
		}
		if e.Addr == k.st.Addr && e.HasMAC && !k.pinned {
			k.pinned, k.pinMAC = true, e.MAC
			infof("gateway: taking over the pin a previous run left for %v at %v until the gateway answers", e.Addr, mac(e.MAC))
			continue
		}
		if err := k.neigh.delNeigh(k.ifindex, e.Addr); err != nil {
			warnf("gateway: %v", err)
			continue
		}
		infof("gateway: removed the pin a previous run left for %v at %v", e.Addr, mac(e.MAC))
	}
}

// leftPin says whether e is a pin of ours on ifindex (any interface when
// ifindex is zero).
func leftPin(e rtnl.Neigh, ifindex int) bool {
	return e.Family == rtnl.AfInet6 && e.Proto == pinProtocol && e.State&rtnl.NudNoARP != 0 && (ifindex == 0 || e.Ifindex == ifindex)
}

// learnFrom starts soliciting the gateway by multicast at now, and again
// after 1, 2, 4... s until it is learned.
func (k *gatewayKeeper) learnFrom(now time.Time) {
	k.solicitAt, k.retry = time.Time{}, time.Second
	if k.wantMAC() {
		k.solicitAt = now
		if k.lostAt.IsZero() {
			k.lostAt = now
		}
	}
}

// checkEvery is how often the followed MAC is asked whether it is still
// there: every -keepalive, or, while we pin it, every pinCheckEvery.
func (k *gatewayKeeper) checkEvery() time.Duration {
	switch {
	case k.cfg.keepalive > 0:
		return k.cfg.keepalive
	case k.cfg.pinGateway:
		return pinCheckEvery
	}
	return 0
}

func (k *gatewayKeeper) setKeepalive(now time.Time) {
	k.keepaliveAt = time.Time{}
	if every := k.checkEvery(); every > 0 {
		k.keepaliveAt = now.Add(every)
	}
}

// setUplink takes a new snapshot of the uplink: its gateway may have
// changed, and a link that went down lost our pin with its other entries.
func (k *gatewayKeeper) setUplink(u *uplink, now time.Time) {
	k.link = u
	k.findGateway(now)
	k.ensurePin()
	k.publish()
}

// setConfig takes a reloaded configuration.
func (k *gatewayKeeper) setConfig(cfg *config, now time.Time) {
	old := k.cfg
	k.cfg = cfg
	if cfg.keepalive != old.keepalive || cfg.pinGateway != old.pinGateway {
		k.setKeepalive(now)
	}
	if old.pinGateway && !cfg.pinGateway {
		k.unpin()
	}
	if k.wantMAC() && k.st.Addr.IsValid() && !k.following() && k.solicitAt.IsZero() {
		k.learnFrom(now)
	}
	k.ensurePin()
	var fresh []netip.Addr
	for _, a := range cfg.announce {
		if !slices.Contains(old.announce, a) {
			fresh = append(fresh, a)
		}
	}
	k.announce.add(k.announceable(fresh), now)
	k.publish()
}

// setLive takes the live addresses: the new ones are announced, the gone
// ones forgotten.
func (k *gatewayKeeper) setLive(l *liveAddrs, now time.Time) {
	fresh := k.fresh[:0]
	if l != nil {
		// The log line and the queue come after: Range holds the set for
		// reading, and a writer waiting for it holds up the packet loop.
		for a := range k.live {
			if !l.Has(a) {
				delete(k.live, a)
			}
		}
		l.Range(func(a netip.Addr) bool {
			if !k.live[a] {
				k.live[a] = true
				fresh = append(fresh, a)
			}
			return true
		})
	} else {
		clear(k.live)
	}
	if len(fresh) > 0 {
		slices.SortFunc(fresh, netip.Addr.Compare)
		infof("announce: %d new live address(es), %v first", len(fresh), fresh[0])
	}
	k.fresh = k.appendAnnounceable(fresh[:0], fresh) // in place: the queue copies
	k.announce.add(k.fresh, now)
}

// announceable leaves out of addrs what is never announced: the uplink's
// own addresses and the gateway's.
func (k *gatewayKeeper) announceable(addrs []netip.Addr) []netip.Addr {
	return k.appendAnnounceable(nil, addrs)
}

// appendAnnounceable is announceable appending to out, which may be
// addrs[:0].
func (k *gatewayKeeper) appendAnnounceable(out, addrs []netip.Addr) []netip.Addr {
	for _, a := range addrs {
		if k.link.owns(a) || a == k.link.Gateway {
			warnf("announce: %v is the uplink's or the gateway's own address; not announcing it", a)
			continue
		}
		out = append(out, a)
	}
	return out
}

// next is when the keeper next has something to do; zero when nothing is
// scheduled.
func (k *gatewayKeeper) next() time.Time {
	t := k.announce.next()
	settle := time.Time{}
	if !k.asked.settled {
		settle = k.asked.at.Add(answerWindow)
	}
	for _, u := range []time.Time{k.solicitAt, k.keepaliveAt, settle, k.refreshAt} {
		if !u.IsZero() && (t.IsZero() || u.Before(t)) {
			t = u
		}
	}
	return t
}

// tick does what is due at now.
func (k *gatewayKeeper) tick(now time.Time) {
	if !k.asked.settled && !now.Before(k.asked.at.Add(answerWindow)) {
		k.settle(now)
	}
	if !k.solicitAt.IsZero() && !now.Before(k.solicitAt) {
		k.solicitAt = time.Time{}
		if k.st.Addr.IsValid() && !k.following() && k.wantMAC() {
			k.ask(now, false)
			k.solicitAt = now.Add(k.retry)
			k.retry = min(2*k.retry, time.Minute)
		}
	}
	k.giveBack(now)
	if !k.keepaliveAt.IsZero() && !now.Before(k.keepaliveAt) {
		every := k.checkEvery()
		k.keepaliveAt = now.Add(every)
		switch {
		case !k.st.Addr.IsValid() || !k.asked.settled:
			// A question still open, such as a probe after one lost,
			// stands for this one.
		case k.following():
			k.ask(now, true)
		case k.cfg.keepalive > 0:
			k.ask(now, false) // learning it: the retries above back off, this does not
		}
		if k.cfg.keepalive > 0 && len(k.refresh) == 0 {
			k.refreshFrom(k.announced(), now)
		}
		if k.st.silent(now, every) {
			warnf("gateway: %v has not answered for %v; keeping the entry at %v", k.st.Addr, now.Sub(k.st.LastSeen).Round(time.Second), k.st.MAC)
		}
	}
	// At most -announce-rate addresses a second, announcements first and
	// then the keepalive's refreshes, so that neither a crowd of new
	// containers nor a keepalive from thousands of addresses floods the
	// router's cache; the rest wait their turn.
	rate := k.cfg.announceRate
	clock := int64(now.Sub(k.epoch))
	take := func() bool { return rate <= 0 || k.announceBudget.take(clock, rate, rate) }
	retry := now.Add(time.Second / time.Duration(max(rate, 1)))
	addrs, held := k.announce.due(now, take, retry)
	k.announceAll(addrs, now)
	k.refreshDue(now, take, retry)
	if held > 0 {
		k.c.announceDeferred.Add(uint64(held))
		if !k.deferredSaid {
			infof("announce: more new addresses than -announce-rate %d a second; the rest wait their turn", rate)
			k.deferredSaid = true
		}
	}
	k.publish()
}

// ask sends our NS to the gateway from askSource, by unicast to the
// followed MAC or by multicast, and opens a window for the answers. A
// question still open is settled first.
func (k *gatewayKeeper) ask(now time.Time, unicast bool) {
	if !k.asked.settled {
		k.settle(now)
	}
	var to mac
	if unicast {
		to = k.st.MAC
	}
	srcs := k.asked.srcs[:0]
	if src := askSource(k.link, k.announced); src.IsValid() {
		k.send(appendGatewayNS(k.buf[:0], k.link.MAC, to, src, k.st.Addr), &k.c.nsSent)
		srcs = append(srcs, src)
	}
	k.asked = question{at: now, srcs: srcs, unicast: unicast}
}

// refreshFrom queues an NS to the gateway from each of addrs, which keeps
// the router's entries for them fresh; refreshDue sends them at the
// announcements' rate. The queue is the keeper's; addrs is copied.
func (k *gatewayKeeper) refreshFrom(addrs []netip.Addr, now time.Time) {
	if len(addrs) == 0 || !k.st.Addr.IsValid() {
		return
	}
	k.refresh = append(k.refresh[:0], addrs...)
	k.refreshAt = now
}

// refreshDue sends the queued refreshes that take allows at now; the rest
// wait until retry.
func (k *gatewayKeeper) refreshDue(now time.Time, take func() bool, retry time.Time) {
	if k.refreshAt.IsZero() || now.Before(k.refreshAt) {
		return
	}
	var to mac // by unicast to the MAC followed, else to its group
	if k.following() {
		to = k.st.MAC
	}
	i := 0
	for ; i < len(k.refresh); i++ {
		a := k.refresh[i]
		if !k.live[a] && !slices.Contains(k.cfg.announce, a) {
			continue // gone since it was queued
		}
		if !take() {
			break
		}
		k.send(appendGatewayNS(k.buf[:0], k.link.MAC, to, a, k.st.Addr), &k.c.nsSent)
		k.announceAsked.add(a, now)
	}
	k.refresh = append(k.refresh[:0], k.refresh[i:]...)
	k.refreshAt = time.Time{}
	if len(k.refresh) > 0 {
		k.refreshAt = retry
	}
}

// giveBack removes our pin when the gateway's MAC could not be learned for
// giveBackAfter: a pin nobody can check is worse than the kernel's own
// resolution. The gateway answering pins it again.
func (k *gatewayKeeper) giveBack(now time.Time) {
	if !k.pinned || k.lostAt.IsZero() || now.Sub(k.lostAt) < giveBackAfter {
		return
	}
	warnf("gateway: %v has not answered for %v; removing the pin at %v and leaving the entry to the kernel until it answers", k.st.Addr, now.Sub(k.lostAt).Round(time.Second), k.pinMAC)
	k.unpin()
}

// settle closes the window of our last question and acts on what answered
// it: a unicast probe left unanswered counts toward relearning; a
// multicast round's one answering MAC is learned, and more than one is a
// conflict.
func (k *gatewayKeeper) settle(now time.Time) {
	q := &k.asked
	q.settled = true
	if q.unicast {
		if q.answered {
			return
		}
		if k.unanswered++; k.unanswered >= maxUnanswered && k.following() {
			warnf("gateway: %v at %v answered none of %d probes; soliciting it anew", k.st.Addr, k.st.MAC, k.unanswered)
			k.relearning, k.fastProbes = true, 0
			k.learnFrom(now)
			return
		}
		if k.unanswered == 1 && k.fastProbes == 0 {
			// One probe lost may be chance; two more, a window apart,
			// tell, without waiting for the next checks.
			k.fastProbes = maxUnanswered - 1
		}
		if k.fastProbes > 0 && k.following() {
			k.fastProbes--
			k.ask(now, true)
		}
		return
	}
	switch {
	case len(q.candidates) == 1:
		k.learned(q.candidates[0], now)
	case len(q.candidates) > 1 && k.st.Known && slices.Contains(q.candidates, k.st.MAC):
		// The MAC we followed answered, and so did others: keep it.
		k.learned(k.st.MAC, now)
		k.refuse(reasonNAConflict, sprintf("answers for %v name %v too; keeping %v", k.st.Addr, q.candidates, k.st.MAC))
	case len(q.candidates) > 1:
		k.refuse(reasonNAConflict, sprintf("answers for %v naming %v, trusting none (to choose, pin it by hand: ip -6 neigh replace %v lladdr MAC dev IFACE nud permanent)", k.st.Addr, q.candidates, k.st.Addr))
	}
}

// onNA handles an NA for the gateway that the packet loop let through
// (gatewayView.check): it counts only as an answer to our last question,
// inside its window, sent to an address we asked from.
func (k *gatewayKeeper) onNA(na *neighborAdvertisement, now time.Time) {
	v := k.view.Load()
	if v == nil || !v.addr.IsValid() || na.Target != v.addr {
		return // the gateway changed since the packet loop looked
	}
	m, why := v.check(na)
	if why == reasonNone && (k.asked.at.IsZero() || now.Sub(k.asked.at) > answerWindow || !slices.Contains(k.asked.srcs, na.Dst)) {
		if k.announceAsked.asked(na.Dst, now) {
			// The router answering an announcement's NS, as it should:
			// expected, and taken for nothing.
			return
		}
		why = reasonNANotAsked
	}
	if why != reasonNone {
		k.count(why)
		if k.mayLog() {
			warnf("gateway: refused NA for %v from %v (%v) to %v naming %v: %v", na.Target, na.Src, na.EthSrc, na.Dst, m, why)
		}
		return
	}
	q := &k.asked
	if q.unicast {
		if m == k.st.MAC && !q.answered {
			q.answered, q.settled = true, true
			k.unanswered, k.fastProbes = 0, 0
			k.learned(m, now)
		}
		return
	}
	if !q.settled && !slices.Contains(q.candidates, m) && len(q.candidates) < maxCandidates {
		q.candidates = append(q.candidates, m)
	}
}

// refuse counts an NA (or a round of them) not taken, and says why in a
// rate-limited line.
func (k *gatewayKeeper) refuse(why reason, what string) {
	k.count(why)
	if k.mayLog() {
		warnf("gateway: refused %s: %v", what, why)
	}
}

func (k *gatewayKeeper) count(why reason) { k.c.naRefused[why].Add(1) }

// mayLog says whether a refusal may be logged now; the line is made only
// then, so that a flood of refused NAs makes no garbage.
func (k *gatewayKeeper) mayLog() bool {
	ok, held := k.refusals.allow(time.Now())
	if ok && held > 0 {
		warnf("gateway: %d more refusals not logged", held)
	}
	return ok
}

// claim is told by the packet loop that an NA named another MAC for the
// gateway: the keeper probes the MAC it follows, three times a window
// apart, unless it did so lately; if none is answered, it learns the
// gateway anew.
func (k *gatewayKeeper) claim(m mac, now time.Time) {
	if !k.following() || k.fastProbes > 0 || (!k.lastVerify.IsZero() && now.Sub(k.lastVerify) < verifyEvery) {
		return
	}
	k.lastVerify = now
	infof("gateway: an NA names %v for %v; checking that %v still answers", m, k.st.Addr, k.st.MAC)
	k.fastProbes = maxUnanswered - 1
	if k.asked.settled {
		k.ask(now, true)
	}
}

// learned takes m as the gateway's MAC at now, from an answer we trust.
func (k *gatewayKeeper) learned(m mac, now time.Time) {
	was := k.st
	changed, wasSilent := k.st.seen(m, now)
	k.relearning, k.unanswered, k.solicitAt, k.lostAt = false, 0, time.Time{}, time.Time{}
	switch {
	case !was.Known:
		infof("gateway: %v is at %v", k.st.Addr, m)
		// Addresses announced before the gateway was known still owe it
		// their NS, at the announcements' rate.
		k.refreshFrom(k.announced(), now)
	case changed:
		infof("gateway: %v moved from %v to %v", k.st.Addr, was.MAC, m)
	case wasSilent:
		infof("gateway: %v answers again", k.st.Addr)
	}
	if k.cfg.pinGateway && (changed || !k.pinned || k.pinMAC != m) {
		k.pinTo(m)
	}
	k.publish()
}

// pinTo sets the kernel's entry for the gateway to m in NOARP state, which
// the kernel never expires and never changes on its own. An entry the
// administrator made PERMANENT is left alone.
func (k *gatewayKeeper) pinTo(m mac) {
	if k.adminPin {
		return
	}
	e, ok, err := k.neigh.neigh(k.ifindex, k.st.Addr)
	if err != nil {
		k.pinFailed(err)
		return
	}
	if ok && e.State&rtnl.NudPermanent != 0 {
		k.adminPin = true
		infof("gateway: the entry for %v is PERMANENT at %v, set by the administrator; leaving it alone", k.st.Addr, mac(e.MAC))
		return
	}
	if err := k.neigh.setNeigh(k.ifindex, k.st.Addr, rtnl.NudNoARP, m); err != nil {
		k.pinFailed(err)
		return
	}
	k.pinned, k.pinMAC, k.pinSaid = true, m, false
	infof("gateway: pinned %v at %v", k.st.Addr, m)
}

// pinFailed says once that pinning fails, not at every answer.
func (k *gatewayKeeper) pinFailed(err error) {
	if !k.pinSaid {
		warnf("gateway: %v", err)
		k.pinSaid = true
	}
}

// ensurePin pins the gateway again if its entry is no longer ours: the
// kernel flushes a device's entries, pins too, when it goes down.
func (k *gatewayKeeper) ensurePin() {
	if !k.cfg.pinGateway || !k.following() || k.adminPin {
		return
	}
	e, ok, err := k.neigh.neigh(k.ifindex, k.st.Addr)
	if err == nil && ok && e.State&rtnl.NudNoARP != 0 && e.MAC == k.st.MAC {
		return
	}
	k.pinTo(k.st.MAC)
}

// unpin removes the entry we made, if it is still as we made it.
func (k *gatewayKeeper) unpin() {
	if !k.pinned {
		return
	}
	k.pinned = false
	e, ok, err := k.neigh.neigh(k.ifindex, k.st.Addr)
	if err != nil {
		warnf("gateway: %v", err)
		return
	}
	if !ok || e.State&rtnl.NudNoARP == 0 || e.MAC != k.pinMAC {
		return // someone else's now
	}
	if err := k.neigh.delNeigh(k.ifindex, k.st.Addr); err != nil {
		warnf("gateway: %v", err)
		return
	}
	infof("gateway: unpinned %v", k.st.Addr)
}

// report puts the gateway's state where the counters show it.
func (k *gatewayKeeper) report() {
	k.c.setGateway(k.st.Known, k.pinned || k.adminPin, k.st.LastSeen)
	r := gatewayReport{addr: k.st.Addr, mac: k.st.MAC, known: k.st.Known, silent: k.st.Silent,
		adminPin: k.adminPin, pinned: k.pinned, relearning: k.relearning, valid: true}
	if r == k.reported {
		return
	}
	k.reported = r
	s := "none"
	if k.st.Addr.IsValid() {
		s = k.st.Addr.String()
		if k.st.Known {
			s += "," + k.st.MAC.String()
		}
		switch {
		case k.adminPin:
			s += ",pinned-by-admin"
		case k.pinned:
			s += ",pinned"
		}
		if k.st.Silent {
			s += ",silent"
		}
		if k.relearning {
			s += ",relearning"
		}
	}
	if old := k.c.gateway.Load(); old == nil || *old != s {
		k.c.gateway.Store(&s)
	}
}

// announced is every address we announce: those of -a, and the live ones,
// in order. The slice is the keeper's, valid until the next call.
func (k *gatewayKeeper) announced() []netip.Addr {
	all := k.appendAnnounceable(k.announcedBuf[:0], k.cfg.announce)
	n := len(all)
	for a := range k.live { // each once: only -a's need checking
		if !slices.Contains(all[:n], a) && !k.link.owns(a) && a != k.link.Gateway {
			all = append(all, a)
		}
	}
	slices.SortFunc(all[n:], netip.Addr.Compare)
	k.announcedBuf = all
	return all
}

// announceAll sends, for each address, the DAD-style NS and then the NS
// from the address to the gateway.
func (k *gatewayKeeper) announceAll(addrs []netip.Addr, now time.Time) {
	for _, a := range addrs {
		if !k.live[a] && !slices.Contains(k.cfg.announce, a) {
			continue // gone since it was queued: its last rounds are not sent
		}
		k.send(appendDADProbe(k.buf[:0], k.link.MAC, a), &k.c.announced)
		if k.st.Addr.IsValid() {
			k.send(appendGatewayNS(k.buf[:0], k.link.MAC, mac{}, a, k.st.Addr), &k.c.nsSent)
			k.announceAsked.add(a, now)
		}
	}
}

func (k *gatewayKeeper) send(frame []byte, counter interface{ Add(uint64) uint64 }) {
	k.buf = frame
	if k.c.sent("gateway", k.out.write(frame)) {
		counter.Add(1)
	}
}

// keeperInputs are what the keeper is handed while it runs; each channel
// has this keeper as its one reader.
type keeperInputs struct {
	nas     <-chan neighborAdvertisement // answers the packet loop let through
	claims  <-chan mac                   // another MAC named for the gateway
	uplinks <-chan *uplink               // new snapshots of the uplink
	configs <-chan *config               // reloads
	live    <-chan *liveAddrs            // the live addresses
}

// run drives the keeper with the real clock until sc ends, then removes
// the pin it made.
func (k *gatewayKeeper) run(sc *scope.Scope, in keeperInputs) {
	defer k.unpin()
	k.start(time.Now())
	timer := scope.NewAlarm(time.Hour)
	defer timer.Stop()
	for {
		k.report()
		var wake <-chan struct{}
		if t := k.next(); !t.IsZero() {
			timer.Reset(time.Until(t))
			wake = timer.C
		}
		select {
		case <-sc.Done():
			return
		case na := <-in.nas:
			k.onNA(&na, time.Now())
		case m := <-in.claims:
			k.claim(m, time.Now())
		case u := <-in.uplinks:
			k.setUplink(u, time.Now())
		case cfg := <-in.configs:
			k.setConfig(cfg, time.Now())
		case l := <-in.live:
			k.setLive(l, time.Now())
		case <-wake:
			k.tick(time.Now())
		}
	}
}
