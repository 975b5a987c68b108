// The background's one stateful object: it owns the snapshot (link, daemon status, WebRTC, settings) and
// re-derives everything visible from it on each change. Browser APIs arrive in `Env` so unit tests run the
// whole controller against fakes.
import type { Event, StatusT } from '../shared/protocol.js';
import type { Settings, SettingsStorage } from '../shared/settings.js';
import { applyPatch, DEFAULT_SETTINGS, loadSettings, saveSettings } from '../shared/settings.js';
import type { Connection, Snapshot, WebrtcPolicy, WebrtcView } from '../shared/snapshot.js';
import type { IconKind } from '../shared/state-view.js';
import { stateView } from '../shared/state-view.js';
import type { BackgroundMessage } from '../shared/ui-messages.js';
import { parseUiMessage } from '../shared/ui-messages.js';
import type { NativeClientOptions } from './native-client.js';
import { NativeClient, RequestError } from './native-client.js';
import type { Notice } from './notifier.js';
import { tamperNotice, tunnelDropNotice } from './notifier.js';
import type { WebrtcApi } from './webrtc-apply.js';
import { applyWebrtc } from './webrtc-apply.js';
import { decideWebrtc } from './webrtc-decide.js';

export interface Toolbar {
  render(view: { icon: IconKind; title: string; badgeText: string; badgeColor: string }): Promise<void>;
}

export interface UiPort {
  postMessage(message: BackgroundMessage): void;
  onMessage: { addListener(cb: (message: unknown) => void): void };
  onDisconnect: { addListener(cb: () => void): void };
}

export interface Env {
  browser: 'chrome' | 'firefox';
  storage: SettingsStorage;
  toolbar: Toolbar;
  notify: (notice: Notice) => void;
  webrtc: WebrtcApi;
  /** the IP-handling value protect mode uses in this browser */
  strictPolicy: WebrtcPolicy;
  /** whether a tab of one of these origins is open */
  allowedSiteOpen: (origins: readonly string[]) => Promise<boolean>;
  native: Omit<NativeClientOptions, 'onChange' | 'onEvent'>;
  /** reports an error that has no user-facing place (named by where it happened) */
  reportError: (where: string, error: unknown) => void;
}

const INITIAL_WEBRTC: WebrtcView = { policy: null, levelOfControl: null, peerConnectionBlocked: false, relaxed: false, reason: 'Not applied yet.', problem: null };

export class Controller {
  private settings: Settings = { ...DEFAULT_SETTINGS };
  private connection: Connection = { kind: 'connecting', since: Date.now() };
  private status: StatusT | null = null;
  private webrtc: WebrtcView = INITIAL_WEBRTC;
  private readonly ui = new Set<UiPort>();
  private readonly native: NativeClient;
  private ticker: ReturnType<typeof setInterval> | null = null;
  /** serialises WebRTC applies so an older decision never lands after a newer one */
  private webrtcChain: Promise<void> = Promise.resolve();
  private started: Promise<void> | null = null;

  constructor(private readonly env: Env) {
    this.native = new NativeClient({
      ...env.native,
      onChange: (c, s) => this.onNative(c, s),
      onEvent: (e) => this.onEvent(e),
    });
  }

  /** Idempotent: called from top-level code and from onStartup/onInstalled alike. */
  start(): Promise<void> {
    this.started ??= (async () => {
      try {
        this.settings = await loadSettings(this.env.storage);
      } catch (e) {
        this.env.reportError('load settings', e);
      }
      // WebRTC protection first, before and independently of the host: it must hold from the first start.
      await this.refreshWebrtc();
      this.native.start();
      await this.render();
    })();
    return this.started;
  }

  snapshot(): Snapshot {
    return { connection: this.connection, status: this.status, webrtc: this.webrtc, settings: this.settings, browser: this.env.browser };
  }

  attachUi(port: UiPort): void {
    this.ui.add(port);
    port.onDisconnect.addListener(() => this.ui.delete(port));
    port.onMessage.addListener((raw) => void this.onUiMessage(port, raw));
    port.postMessage({ kind: 'snapshot', snapshot: this.snapshot() });
    // Someone is looking: do not make them wait for the backoff timer.
    this.native.retryNow();
  }

  /** Something outside the decision changed (a permission was granted): apply again. */
  reapplyWebrtc(): void {
    this.webrtc = INITIAL_WEBRTC;
    void this.refreshWebrtc();
  }

  /** A tab opened, closed or navigated: the video-call relaxation may start or end. */
  tabsChanged(): void {
    if (this.settings.videoCallSites.length > 0 || this.webrtc.relaxed) void this.refreshWebrtc();
  }

  private async onUiMessage(port: UiPort, raw: unknown): Promise<void> {
    const m = parseUiMessage(raw);
    if (!m) return;
    if (m.kind === 'retry') {
      this.native.retryNow();
      return;
    }
    try {
      if (m.kind === 'daemon') {
        await this.native.request(m.request);
      } else {
        const r = applyPatch(this.settings, m.patch);
        if (!r.ok) throw new Error(r.error);
        await saveSettings(this.env.storage, r.settings);
        this.settings = r.settings;
        await this.refreshWebrtc();
        this.broadcast();
      }
      port.postMessage({ kind: 'reply', id: m.id, ok: true });
    } catch (e) {
      const error = e instanceof RequestError ? `${e.body.message}${e.body.hint ? ` — ${e.body.hint}` : ''}` : e instanceof Error ? e.message : String(e);
      port.postMessage({ kind: 'reply', id: m.id, ok: false, error });
    }
  }

  private onNative(connection: Connection, status: StatusT | null): void {
    const prev = this.status;
    this.connection = connection;
    this.status = status;
    if (status && connection.kind === 'ready' && prev !== status) {
      const n = tunnelDropNotice(prev, status, this.settings);
      if (n) this.env.notify(n);
    }
    void this.render();
    void this.refreshWebrtc();
  }

  private onEvent(e: Event): void {
    const n = tamperNotice(e, this.settings);
    if (n) this.env.notify(n);
  }

  private lockState() {
    return this.connection.kind === 'ready' && this.status ? this.status.state : null;
  }

  private refreshWebrtc(): Promise<void> {
    this.webrtcChain = this.webrtcChain.then(async () => {
      try {
        const sites = this.settings.videoCallSites;
        const allowedSiteOpen = sites.length > 0 && (await this.env.allowedSiteOpen(sites));
        const decision = decideWebrtc({ mode: this.settings.webrtc, lockState: this.lockState(), allowedSiteOpen, strict: this.env.strictPolicy });
        const w = this.webrtc;
        // Skip the browser round-trip when nothing would change.
        if (w !== INITIAL_WEBRTC && w.reason === decision.reason && w.relaxed === decision.relaxed && w.peerConnectionBlocked === decision.blockPeerConnection && w.problem === null) return;
        this.webrtc = await applyWebrtc(this.env.webrtc, decision);
        this.broadcast();
      } catch (e) {
        this.env.reportError('apply WebRTC setting', e);
      }
    });
    return this.webrtcChain;
  }

  private secondsLeft(): number | undefined {
    const c = this.status?.captive;
    return c ? Math.max(0, Math.round((c.expiresAt - Date.now()) / 1000)) : undefined;
  }

  private async render(): Promise<void> {
    const view = stateView(this.connection, this.status, this.secondsLeft());
    const counting = this.connection.kind === 'ready' && this.status?.state === 'exception';
    if (counting && !this.ticker) this.ticker = setInterval(() => void this.render(), 1000);
    if (!counting && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = null;
    }
    this.broadcast();
    try {
      await this.env.toolbar.render(view);
    } catch (e) {
      this.env.reportError('update toolbar', e);
    }
  }

  private broadcast(): void {
    const message: BackgroundMessage = { kind: 'snapshot', snapshot: this.snapshot() };
    for (const port of this.ui) {
      try {
        port.postMessage(message);
      } catch {
        this.ui.delete(port);
      }
    }
  }
}
