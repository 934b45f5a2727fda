// XEP-0352 Client State Indication on the client: the application says
// whether the user is looking (setActive), the client tells the server when
// it offers the feature, and says it again on every new session (the server
// starts each one active, §4; a resumed one keeps its state), unless the
// session began in that state through Bind 2 (XEP-0386 §3.2).

import { xml, type Element } from '@switchboard/xml';

export const NS_CSI = 'urn:xmpp:csi:0';

export class ClientStateIndication {
  private active: boolean;

  constructor(
    private readonly write: (nonza: Element) => void,
    /** The stream features of the current session, if online. */
    private readonly features: () => Element | undefined,
    /** XEP-0386: whether Bind 2 in these features lists CSI inline (then the server offers it too). */
    private readonly inlined: (features: Element) => boolean = () => false,
    active = true,
  ) {
    this.active = active;
  }

  /** The state the application last set. */
  get isActive(): boolean {
    return this.active;
  }

  /** Records the state and sends it when the server offers CSI; false when it does not (nothing was sent). */
  set(active: boolean): boolean {
    const changed = active !== this.active;
    this.active = active;
    return changed ? this.send() : this.offered();
  }

  /** A new session begins active; tell the server if the application is not (§4) and Bind 2 did not already. */
  sessionStarted(startedInactive = false): void {
    if (!this.active && !startedInactive) this.send();
  }

  /**
   * §3: the feature is in the session's features; after a SASL2 login with Bind 2 there is no restart,
   * so the features are the pre-authentication ones, where Bind 2's inline list says it.
   */
  private offered(): boolean {
    const features = this.features();
    return features !== undefined && (features.getChild('csi', NS_CSI) !== undefined || this.inlined(features));
  }

  private send(): boolean {
    if (!this.offered()) return false;
    this.write(xml(this.active ? 'active' : 'inactive', { xmlns: NS_CSI }));
    return true;
  }
}
